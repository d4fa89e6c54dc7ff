/*
 * reason: match.c's English reasons, written again in a member's language.
 *
 * The forms read here are the ones match.c writes (collect_reasons and
 * tz_phrase there); a change to those belongs here too, and test_reason
 * keeps the two in step.
 */
#include "reason.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lang.h"

#define REASON_MAX 1024

/* Copy the phrase key of l (english when it lacks it), filled, into out. */
static void
reason_say(const struct lang *l, char *out, size_t len, const char *key, const char *english,
           const char *name, const char *value, const char *name2, const char *value2)
{
    char *s = lang_phrase_fill(l, key, english, name, value, name2, value2, NULL);
    snprintf(out, len, "%s", s ? s : english);
    free(s);
}

/*
 * "A, B and C" (match.c's join_names) joined again with the language's "and":
 * the items keep their spelling.
 */
static void
reason_list(const struct lang *l, const char *english, char *out, size_t len)
{
    const char *and = lang_phrase(l, "and");
    const char *last = NULL;

    for (const char *p = strstr(english, " and "); p; p = strstr(p + 1, " and "))
        last = p;
    if (and == NULL || last == NULL) {
        snprintf(out, len, "%s", english);
        return;
    }
    snprintf(out, len, "%.*s %s %s", (int)(last - english), english, and, last + 5);
}

static const char *const reason_numbers[] = {"zero", "one",    "two",   "three", "four",
                                             "five", "six",    "seven", "eight", "nine",
                                             "ten",  "eleven", "twelve"};

/* "three hours apart" and the other time-zone forms; 0 when s is one. */
static int
reason_time_zone(const struct lang *l, const char *s, char *out, size_t len)
{
    char word[16], n[16], m[16];
    int a, b;

    if (strcmp(s, "same time zone") == 0) {
        reason_say(l, out, len, "reason_tz_same", "same time zone", NULL, NULL, NULL, NULL);
        return 0;
    }
    if (strcmp(s, "one hour apart") == 0) {
        reason_say(l, out, len, "reason_tz_hour", "one hour apart", NULL, NULL, NULL, NULL);
        return 0;
    }
    if (sscanf(s, "%15s hours apart", word) == 1 && strcmp(s + strlen(word), " hours apart") == 0) {
        for (int i = 2; i < (int)(sizeof(reason_numbers) / sizeof(reason_numbers[0])); i++)
            if (strcmp(word, reason_numbers[i]) == 0) {
                snprintf(n, sizeof(n), "%d", i);
                reason_say(l, out, len, "reason_tz_hours", "{n} hours apart", "n", n, NULL, NULL);
                return 0;
            }
        return -1;
    }
    int used = 0;
    if (sscanf(s, "%d minutes apart%n", &a, &used) == 1 && s[used] == '\0') {
        snprintf(n, sizeof(n), "%d", a);
        reason_say(l, out, len, "reason_tz_minutes", "{n} minutes apart", "n", n, NULL, NULL);
        return 0;
    }
    if (sscanf(s, "%d h %d min apart%n", &a, &b, &used) == 2 && s[used] == '\0') {
        snprintf(n, sizeof(n), "%d", a);
        snprintf(m, sizeof(m), "%02d", b);
        reason_say(l, out, len, "reason_tz_hm", "{h} h {m} min apart", "h", n, "m", m);
        return 0;
    }
    return -1;
}

/* One reason in l; as it is when it is not one of match.c's forms. */
static void
reason_one(const struct lang *l, const char *s, char *out, size_t len)
{
    static const struct {
        const char *prefix, *key, *english;
    } lists[] = {
        {"you both listed ", "reason_tags", "you both listed {list}"},
        {"both speak ", "reason_languages", "both speak {list}"},
        {"you share the goals ", "reason_goals", "you share the goals {list}"},
        {"you share the goal ", "reason_goal", "you share the goal {list}"},
    };
    char list[REASON_MAX];

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        size_t n = strlen(lists[i].prefix);
        if (strncmp(s, lists[i].prefix, n) == 0 && s[n] != '\0') {
            reason_list(l, s + n, list, sizeof(list));
            reason_say(l, out, len, lists[i].key, lists[i].english, "list", list, NULL, NULL);
            return;
        }
    }
    /* A pair a manager made: "matched by hand (boss@example.org)". */
    size_t hand = strlen("matched by hand (");
    if (strncmp(s, "matched by hand (", hand) == 0 && s[strlen(s) - 1] == ')') {
        snprintf(list, sizeof(list), "%.*s", (int)(strlen(s) - hand - 1), s + hand);
        reason_say(l, out, len, "reason_by_hand", "matched by hand ({by})", "by", list, NULL, NULL);
        return;
    }
    if (reason_time_zone(l, s, out, len) != 0)
        snprintf(out, len, "%s", s);
}

char *
reason_lines(const struct lang *l, const char *reasons)
{
    struct buf b = {0};
    char one[REASON_MAX], said[REASON_MAX];

    if (reasons == NULL)
        return NULL;
    for (const char *p = reasons; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > 0 && n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            reason_one(l, one, said, sizeof(said));
            buf_printf(&b, "%s  - %s", b.len ? "\n" : "", said);
        }
        p += n + (p[n] == '\n');
    }
    if (b.len == 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}
