/*
 * pairing_csv: a matching instance read from CSV and solved with the
 * configured weights (`mentorctl match --instance`), so weights can be tried
 * on a community's data without a database.  Only mentorctl uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "pairing.h"
#include "pairing_csv.h"
#include "profile.h"

#define DAY (24 * 60 * 60)

static char *
pairing_trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/*
 * One row a person, comma-separated, no quoting (fields hold no commas):
 *   role,id,tags,languages,tz,capacity,load,waiting_days,goals
 * role is newcomer or mentor; id a positive integer; tags, languages and
 * goals are ';'-separated; tz an IANA zone or UTC+hh:mm (empty: UTC);
 * capacity (mentors, empty: 1) and load (active mentees, empty: 0);
 * waiting_days (newcomers, empty: 0).  Trailing columns may be left out.
 * Blank lines, '#' comments and a header row starting with "role" are skipped.
 */
struct pairing_row {
    char *line;      /* the row's storage: fields point into it */
    char **lists[3]; /* tags, languages, goals */
    size_t n_lists[3];
};

struct pairing_instance {
    struct pairing_row *rows;
    struct match_person *people;
    size_t n, cap;
};

static void
pairing_instance_free(struct pairing_instance *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->rows[i].line);
        for (int k = 0; k < 3; k++)
            free(in->rows[i].lists[k]);
    }
    free(in->rows);
    free(in->people);
}

static int
pairing_split_list(char *field, char ***out, size_t *n)
{
    char *save = NULL;

    *out = NULL;
    *n = 0;
    for (char *item = strtok_r(field, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        item = pairing_trim(item);
        if (item[0] == '\0')
            continue;
        char **grown = realloc(*out, (*n + 1) * sizeof(*grown));
        if (grown == NULL)
            return -1;
        *out = grown;
        (*out)[(*n)++] = item;
    }
    return 0;
}

/* A non-negative integer field; empty gives def.  0, or -1 when it is not a number. */
static int
pairing_number(const char *field, long def, long *out)
{
    char *end = NULL;

    if (field == NULL || field[0] == '\0') {
        *out = def;
        return 0;
    }
    *out = strtol(field, &end, 10);
    return end == field || *end != '\0' || *out < 0 || *out > 1000000000L ? -1 : 0;
}

static int
pairing_tz(const char *zone, time_t now, int *offset)
{
    struct profile p;
    char text[160];
    int ok = 0;

    *offset = 0;
    if (zone == NULL || zone[0] == '\0')
        return 0;
    snprintf(text, sizeof(text), "Time zone: %s\n", zone);
    if (profile_parse(text, &p) != 0)
        return -1;
    *offset = profile_utc_offset(&p, (long long)now, &ok);
    profile_free(&p);
    return ok ? 0 : -1;
}

/* Parse one row into in; err says what is wrong (the caller adds FILE:LINE). */
static int
pairing_row(struct pairing_instance *in, char *line, time_t now, char *err, size_t errlen)
{
    char *f[9] = {NULL};
    int nf = 0;
    long id, cap, load, days;

    if (in->n == in->cap) {
        size_t cap2 = in->cap ? 2 * in->cap : 16;
        struct pairing_row *r = realloc(in->rows, cap2 * sizeof(*r));
        if (r)
            in->rows = r;
        struct match_person *p = r ? realloc(in->people, cap2 * sizeof(*p)) : NULL;
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        in->people = p;
        in->cap = cap2;
    }
    struct pairing_row *row = &in->rows[in->n];
    struct match_person *mp = &in->people[in->n];
    memset(row, 0, sizeof(*row));
    memset(mp, 0, sizeof(*mp));
    row->line = line;
    in->n++;
    /* strsep keeps empty fields, which strtok would skip */
    for (char *p = line; p && nf < 9; nf++)
        f[nf] = pairing_trim(strsep(&p, ","));
    if (nf < 5) {
        snprintf(err, errlen,
                 "expected role,id,tags,languages,tz[,capacity,load,waiting_days,goals]");
        return -1;
    }
    if (strcmp(f[0], "newcomer") != 0 && strcmp(f[0], "mentor") != 0) {
        snprintf(err, errlen, "role must be newcomer or mentor, not \"%s\"", f[0]);
        return -1;
    }
    if (pairing_number(f[1], -1, &id) != 0 || id <= 0) {
        snprintf(err, errlen, "id must be a positive number");
        return -1;
    }
    if (pairing_number(f[5], 1, &cap) != 0 || pairing_number(f[6], 0, &load) != 0 ||
        pairing_number(f[7], 0, &days) != 0) {
        snprintf(err, errlen, "capacity, load and waiting_days must be numbers");
        return -1;
    }
    if (pairing_tz(f[4], now, &mp->tz_offset_min) != 0) {
        snprintf(err, errlen, "unknown time zone \"%s\"", f[4]);
        return -1;
    }
    char *empty = "";
    char *lists[3] = {f[2], f[3], f[8] ? f[8] : empty};
    for (int k = 0; k < 3; k++)
        if (pairing_split_list(lists[k], &row->lists[k], &row->n_lists[k]) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    mp->id = id;
    mp->role = strcmp(f[0], "mentor") == 0 ? MATCH_MENTOR : MATCH_NEWCOMER;
    mp->tags = (const char *const *)row->lists[0];
    mp->n_tags = row->n_lists[0];
    mp->languages = (const char *const *)row->lists[1];
    mp->n_languages = row->n_lists[1];
    mp->goals = (const char *const *)row->lists[2];
    mp->n_goals = row->n_lists[2];
    mp->capacity = (int)cap;
    mp->active_mentees = (int)load;
    mp->waiting_since = days > 0 ? (int64_t)now - (int64_t)days * DAY : (int64_t)now;
    return 0;
}

static int
pairing_read_instance(FILE *csv, const char *name, time_t now, struct pairing_instance *in,
                      char *err, size_t errlen)
{
    char *line = NULL, why[256];
    size_t len = 0;
    int lineno = 0;

    while (getline(&line, &len, csv) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *t = pairing_trim(line);
        if (t[0] == '\0' || t[0] == '#' || strncmp(t, "role,", 5) == 0)
            continue;
        char *copy = strdup(t);
        if (copy == NULL || pairing_row(in, copy, now, why, sizeof(why)) != 0) {
            if (copy == NULL)
                snprintf(why, sizeof(why), "out of memory");
            snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
            free(line);
            return -1;
        }
    }
    free(line);
    if (ferror(csv)) {
        snprintf(err, errlen, "%s: read error", name);
        return -1;
    }
    return 0;
}

int
pairing_csv_solve(const struct config *cfg, FILE *csv, const char *name, time_t now, FILE *out,
                  char *err, size_t errlen)
{
    struct pairing_instance in = {0};
    struct match_weights w;
    struct match_synonym *syn = NULL;
    struct match_result res;
    char *syn_text = NULL;
    size_t n_syn = 0;
    int rc = -1;

    pairing_weights(&cfg->matching, &w);
    if (pairing_synonyms(cfg->matching.synonyms, &syn_text, &syn, &n_syn) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (pairing_read_instance(csv, name, now, &in, err, errlen) != 0)
        goto out;
    struct match_input mi = {.people = in.people,
                             .n_people = in.n,
                             .weights = &w,
                             .synonyms = syn,
                             .n_synonyms = n_syn,
                             .now = (int64_t)now};
    if (match_solve(&mi, &res, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < res.n_pairs; i++) {
        const struct match_pair *mp = &res.pairs[i];
        fprintf(out, "%lld \xe2\x86\x92 %lld  %.3f  ", (long long)mp->newcomer,
                (long long)mp->mentor, (double)mp->score / 1000.0);
        for (int j = 0; j < mp->n_reasons; j++)
            fprintf(out, "%s%s", j ? "; " : "", mp->reasons[j]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < res.n_waitlist; i++)
        fprintf(out, "waiting: %lld\n", (long long)res.waitlist[i]);
    fprintf(out, "pairs: %zu  total: %.3f  load cost: %.3f  objective: %.3f%s\n", res.n_pairs,
            (double)res.total_score / 1000.0, (double)res.load_cost / 1000.0,
            (double)res.objective / 1000.0, res.used_greedy ? "  (greedy fallback)" : "");
    pairing_print_certificate(&res, out);
    match_result_free(&res);
    rc = 0;
out:
    pairing_instance_free(&in);
    free(syn);
    free(syn_text);
    return rc;
}
