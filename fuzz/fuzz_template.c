/*
 * fuzz_template: render an arbitrary template text with a fixed set of
 * variables (set, empty and unset, counts and dates for the {{n|a|b}} and
 * {{d|date}} forms), as the daemon renders its templates.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "template.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct template_var vars[] = {
        {"name", "Ada Lövelace"},
        {"community", "Example"},
        {"token", "abc234xyz9"},
        {"empty", ""},
        {"unset", NULL},
        {"a", "{{name}}"},
        {"n", "3"},
        {"one", "1"},
        {"d", "2026-02-29 25:61"},
        {"day", "2027-01-01"},
    };
    const char *dir = fuzz_scratch_dir();
    char *subject = NULL, *body = NULL, err[512];

    if (dir == NULL || fuzz_write_file(dir, "t.txt", data, size) != 0)
        return 0;
    if (template_render(dir, "t", vars, sizeof(vars) / sizeof(vars[0]), &subject, &body, err,
                        sizeof(err)) == 0) {
        free(subject);
        free(body);
    }
    return 0;
}
