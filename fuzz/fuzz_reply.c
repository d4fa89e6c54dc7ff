/* fuzz_reply: reply_read (own text, then the text sent along) on arbitrary text. */
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
    enum reply_origin origin;
    free(reply_read(text, &origin));
    free(text);
    return 0;
}
