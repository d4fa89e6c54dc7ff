/*
 * fuzz_reply: reply_read (own text, then the text sent along) on arbitrary
 * text, and the skills read in the person's own text (skills.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reply.h"
#include "skills.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    enum reply_origin origin;
    char *own = reply_read(text, &origin);
    char **skills = NULL;
    size_t n = 0;
    if (own != NULL && skills_from_prose(own, NULL, 20, 40, &skills, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            free(skills[i]);
        free(skills);
    }
    free(own);
    free(text);
    return 0;
}
