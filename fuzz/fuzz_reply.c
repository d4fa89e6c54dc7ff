/* fuzz_reply: reply_extract on arbitrary text (a NUL-terminated copy of the input). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reply.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    free(reply_extract(text));
    free(text);
    return 0;
}
