#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "compose.h"

struct composed {
    char *headers;
    char *body;
    char *msgid;
    char err[256];
};

static struct compose_msg
base_msg(void)
{
    struct compose_msg m = {
        .from_name = "Example Community",
        .from_addr = "mentors@example.org",
        .to_name = "Ana Silva",
        .to_addr = "ana@example.net",
        .subject = "Welcome to Example mentoring",
        .body = "Hello Ana,\n\nThank you for writing.\n",
        .auto_submitted = "auto-replied",
        .list_id = "<mentors.example.org>",
        .list_unsubscribe = "mailto:mentors@example.org?subject=leave",
        .msgid_domain = "example.org",
        .date = 1769850000, /* Sat, 31 Jan 2026 09:00:00 +0000 */
    };
    return m;
}

static void
compose_ok(const struct compose_msg *m, struct composed *c)
{
    memset(c, 0, sizeof(*c));
    int rc = compose_message(m, &c->headers, &c->body, &c->msgid, c->err, sizeof(c->err));
    if (rc != 0)
        fail_msg("compose_message failed: %s", c->err);
}

static void
composed_free(struct composed *c)
{
    free(c->headers);
    free(c->body);
    free(c->msgid);
}

/* Unfolded value of the first header called name, malloc'd; NULL when absent. */
static char *
header_value(const char *headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = headers; *s; s = strstr(s, "\r\n") + 2) {
        if (strncasecmp(s, name, n) != 0 || s[n] != ':')
            continue;
        char *out = calloc(1, strlen(s) + 1);
        size_t o = 0;
        const char *p = s + n + 1;
        while (*p == ' ')
            p++;
        for (;;) {
            if (p[0] == '\r' && p[1] == '\n') {
                if (p[2] != ' ' && p[2] != '\t')
                    break;
                p += 2;
                continue;
            }
            out[o++] = *p++;
        }
        return out;
    }
    return NULL;
}

static void
assert_lines_short(const char *text)
{
    for (const char *s = text; *s;) {
        const char *e = strstr(s, "\r\n");
        assert_non_null(e); /* every line ends in CRLF */
        if (e - s > 78)
            fail_msg("line of %d chars: %.*s", (int)(e - s), (int)(e - s), s);
        for (const char *p = s; p < e; p++)
            assert_true(*p != '\r' && *p != '\n');
        s = e + 2;
    }
}

/* Names of the header fields as libetpan parses them, in order. */
static size_t
field_names(const char *headers, char names[][64], size_t max)
{
    size_t idx = 0, n = 0;
    struct mailimf_fields *fields = NULL;
    assert_int_equal(mailimf_fields_parse(headers, strlen(headers), &idx, &fields),
                     MAILIMF_NO_ERROR);
    assert_int_equal(idx, strlen(headers)); /* everything was a header */
    for (clistiter *it = clist_begin(fields->fld_list); it != NULL; it = clist_next(it)) {
        struct mailimf_field *f = clist_content(it);
        const char *name = "?";
        switch (f->fld_type) {
        case MAILIMF_FIELD_ORIG_DATE:
            name = "Date";
            break;
        case MAILIMF_FIELD_FROM:
            name = "From";
            break;
        case MAILIMF_FIELD_TO:
            name = "To";
            break;
        case MAILIMF_FIELD_SUBJECT:
            name = "Subject";
            break;
        case MAILIMF_FIELD_MESSAGE_ID:
            name = "Message-ID";
            break;
        case MAILIMF_FIELD_IN_REPLY_TO:
            name = "In-Reply-To";
            break;
        case MAILIMF_FIELD_REFERENCES:
            name = "References";
            break;
        case MAILIMF_FIELD_OPTIONAL_FIELD:
            name = f->fld_data.fld_optional_field->fld_name;
            break;
        default:
            name = "OTHER";
            break;
        }
        if (n < max)
            snprintf(names[n], 64, "%s", name);
        n++;
    }
    mailimf_fields_free(fields);
    return n;
}

static char *
decode_phrase(const char *value)
{
    size_t idx = 0;
    char *out = NULL;
    assert_int_equal(
        mailmime_encoded_phrase_parse("us-ascii", value, strlen(value), &idx, "utf-8", &out),
        MAILIMF_NO_ERROR);
    return out;
}

static void
test_headers_present_and_ordered(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.in_reply_to = "orig@example.net";
    struct composed c;
    compose_ok(&m, &c);
    char names[32][64];
    size_t n = field_names(c.headers, names, 32);
    const char *want[] = {"Date",
                          "From",
                          "To",
                          "Subject",
                          "Message-ID",
                          "In-Reply-To",
                          "References",
                          "MIME-Version",
                          "Content-Type",
                          "Content-Transfer-Encoding",
                          "Auto-Submitted",
                          "List-Id",
                          "List-Unsubscribe",
                          "X-Loop"};
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);

    char *v = header_value(c.headers, "Date");
    assert_string_equal(v, "Sat, 31 Jan 2026 09:00:00 +0000");
    free(v);
    v = header_value(c.headers, "From");
    assert_string_equal(v, "Example Community <mentors@example.org>");
    free(v);
    v = header_value(c.headers, "To");
    assert_string_equal(v, "Ana Silva <ana@example.net>");
    free(v);
    v = header_value(c.headers, "Subject");
    assert_string_equal(v, "Welcome to Example mentoring");
    free(v);
    v = header_value(c.headers, "X-Loop");
    assert_string_equal(v, "mentors@example.org");
    free(v);
    v = header_value(c.headers, "Auto-Submitted");
    assert_string_equal(v, "auto-replied");
    free(v);
    v = header_value(c.headers, "List-Unsubscribe");
    assert_string_equal(v, "<mailto:mentors@example.org?subject=leave>");
    free(v);
    v = header_value(c.headers, "Content-Type");
    assert_string_equal(v, "text/plain; charset=UTF-8");
    free(v);
    /* The header block ends with CRLF and holds no blank line. */
    size_t hl = strlen(c.headers);
    assert_true(hl > 2 && strcmp(c.headers + hl - 2, "\r\n") == 0);
    assert_null(strstr(c.headers, "\r\n\r\n"));
    composed_free(&c);
}

static void
test_ascii_body_is_7bit_crlf_wrapped(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.body = "First line\nsecond line\r\n"
             "a long line of words that goes on and on well past the seventy-eight column "
             "limit of mail\nlast";
    struct composed c;
    compose_ok(&m, &c);
    char *cte = header_value(c.headers, "Content-Transfer-Encoding");
    assert_string_equal(cte, "7bit");
    free(cte);
    assert_string_equal(c.body, "First line\r\nsecond line\r\n"
                                "a long line of words that goes on and on well past the "
                                "seventy-eight column\r\nlimit of mail\r\nlast\r\n");
    assert_lines_short(c.headers);
    assert_lines_short(c.body);
    composed_free(&c);
}

/* A line break never splits a date, a name or an address. */
static void
test_wrap_keeps_dates_names_addresses(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.body = "Maria will mentor you for the next twelve weeks or so, until the end on "
             "Mon 14 Dec 2026.\n"
             "Please write to your mentor soon; you will find her as Maria Lopez <maria@x.test>.\n";
    struct composed c;
    compose_ok(&m, &c);
    assert_non_null(strstr(c.body, "Mon 14 Dec 2026"));
    assert_non_null(strstr(c.body, "Maria Lopez <maria@x.test>."));
    assert_lines_short(c.body);
    composed_free(&c);
}

static void
check_qp_round_trip(const char *body, const char *expect_decoded)
{
    struct compose_msg m = base_msg();
    m.body = body;
    struct composed c;
    compose_ok(&m, &c);
    char *cte = header_value(c.headers, "Content-Transfer-Encoding");
    assert_string_equal(cte, "quoted-printable");
    free(cte);
    assert_lines_short(c.body);
    for (const char *p = c.body; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    size_t idx = 0, len = 0;
    char *dec = NULL;
    assert_int_equal(
        mailmime_quoted_printable_body_parse(c.body, strlen(c.body), &idx, &dec, &len, 0),
        MAILIMF_NO_ERROR);
    assert_int_equal(len, strlen(expect_decoded));
    assert_memory_equal(dec, expect_decoded, len);
    mmap_string_unref(dec);
    composed_free(&c);
}

static void
test_utf8_body_is_quoted_printable(void **state)
{
    (void)state;
    check_qp_round_trip("Olá João,\nbem-vindo à comunidade = 100% 🎉\n",
                        "Olá João,\r\nbem-vindo à comunidade = 100% 🎉\r\n");
    /* ASCII, but one word too long to wrap under 78: quoted-printable too. */
    char body[300], want[300];
    memset(body, 'x', 150);
    strcpy(body + 150, " end\n");
    memcpy(want, body, 154);
    strcpy(want + 154, "\r\n");
    check_qp_round_trip(body, want);
    /* blanks at the end of a line are dropped, not doubled by the encoder */
    check_qp_round_trip("Olá  \nzwei\t\n  drei  \n", "Olá\r\nzwei\r\n  drei\r\n");
}

/*
 * A line of 78 characters (after its trailing blanks go) is left whole, one
 * of 79 is wrapped; every line end, lone CR included, becomes CRLF; an
 * empty body stays empty.
 */
static void
test_body_line_of_78_left_whole(void **state)
{
    (void)state;
    char body[300], want[300], line78[79];
    memset(line78, 'w', 78);
    for (int i = 8; i < 78; i += 9)
        line78[i] = ' ';
    line78[78] = '\0';
    snprintf(body, sizeof body, "a\rb\n%s \t\r\n%sx\n", line78, line78);
    snprintf(want, sizeof want, "a\r\nb\r\n%s\r\n%.*s\r\n%sx\r\n", line78, 71, line78, line78 + 72);
    struct compose_msg m = base_msg();
    m.body = body;
    struct composed c;
    compose_ok(&m, &c);
    char *cte = header_value(c.headers, "Content-Transfer-Encoding");
    assert_string_equal(cte, "7bit");
    free(cte);
    assert_string_equal(c.body, want);
    composed_free(&c);
    m.body = "";
    compose_ok(&m, &c);
    assert_string_equal(c.body, "");
    composed_free(&c);
}

/* The body's Content-Transfer-Encoding, composed from body. */
static char *
body_cte(const char *body)
{
    struct compose_msg m = base_msg();
    m.body = body;
    struct composed c;
    compose_ok(&m, &c);
    char *cte = header_value(c.headers, "Content-Transfer-Encoding");
    composed_free(&c);
    return cte;
}

/*
 * The 7bit test reads eight bytes a step: a control character, a DEL or a
 * byte of 0x80 or more at any place of a word, and in the bytes after the
 * last whole word, still makes the body quoted-printable; tabs and line ends
 * do not.
 */
static void
test_7bit_test_every_byte_place(void **state)
{
    (void)state;
    const unsigned char odd[] = {0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f, 0x80, 0xc3, 0xff};
    char body[64];
    for (size_t at = 0; at < 24; at++) {
        for (size_t k = 0; k < sizeof(odd); k++) {
            memset(body, 'a', 23);
            body[23] = '\0';
            body[at % 23] = (char)odd[k];
            char *cte = body_cte(body);
            assert_string_equal(cte, "quoted-printable");
            free(cte);
        }
        memset(body, ' ', 23);
        body[23] = '\0';
        body[0] = 'b';
        body[at % 23] = at % 3 == 0 ? '\t' : at % 3 == 1 ? '~' : '\n';
        body[22] = 'e';
        char *cte = body_cte(body);
        assert_string_equal(cte, "7bit");
        free(cte);
    }
}

static void
test_utf8_subject_encoded_words(void **state)
{
    (void)state;
    const char *subject = "Bem-vindo à comunidade de mentoria — já temos um mentor para você, "
                          "Ж日本語テキスト with some more words to force folding 🎉🎉";
    struct compose_msg m = base_msg();
    m.subject = subject;
    m.to_name = "João Ñandú";
    struct composed c;
    compose_ok(&m, &c);
    assert_lines_short(c.headers);

    char *v = header_value(c.headers, "Subject");
    assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
    /* Each encoded word is at most 75 characters and decodes to valid UTF-8 on
     * its own, i.e. no character was split between two words. */
    char *copy = strdup(v);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        assert_true(strlen(w) <= 75);
        char *one = decode_phrase(w);
        assert_null(strstr(one, "?"));
        free(one);
    }
    free(copy);
    char *dec = decode_phrase(v);
    assert_string_equal(dec, subject);
    free(dec);
    free(v);

    v = header_value(c.headers, "To");
    char *lt = strstr(v, " <ana@example.net>");
    assert_non_null(lt);
    *lt = '\0';
    dec = decode_phrase(v);
    assert_string_equal(dec, "João Ñandú");
    free(dec);
    free(v);
    composed_free(&c);
}

static void
test_encode_word(void **state)
{
    (void)state;
    char *s = compose_encode_word("plain ascii");
    assert_string_equal(s, "plain ascii");
    free(s);
    s = compose_encode_word("looks like =?utf-8?q?an_encoded?= word");
    assert_true(strncmp(s, "=?UTF-8?B?", 10) == 0);
    char *d = decode_phrase(s);
    assert_string_equal(d, "looks like =?utf-8?q?an_encoded?= word");
    free(d);
    free(s);
    s = compose_encode_word("Zoë");
    d = decode_phrase(s);
    assert_string_equal(d, "Zoë");
    free(d);
    free(s);
}

static void
test_specials_in_name_quoted(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.to_name = "Silva, Ana \"the \\ mentor\"";
    struct composed c;
    compose_ok(&m, &c);
    size_t idx = 0;
    struct mailimf_fields *fields = NULL;
    assert_int_equal(mailimf_fields_parse(c.headers, strlen(c.headers), &idx, &fields),
                     MAILIMF_NO_ERROR);
    int found = 0;
    for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
        struct mailimf_field *f = clist_content(it);
        if (f->fld_type != MAILIMF_FIELD_TO)
            continue;
        clist *list = f->fld_data.fld_to->to_addr_list->ad_list;
        assert_int_equal(clist_count(list), 1); /* the comma did not make two addresses */
        struct mailimf_address *a = clist_content(clist_begin(list));
        assert_int_equal(a->ad_type, MAILIMF_ADDRESS_MAILBOX);
        assert_string_equal(a->ad_data.ad_mailbox->mb_addr_spec, "ana@example.net");
        found = 1;
    }
    mailimf_fields_free(fields);
    assert_true(found);
    composed_free(&c);
}

static void
test_header_injection_impossible(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.subject = "Hello\r\nBcc: victim@example.com\r\n\r\nInjected body";
    m.to_name = "Eve\nX-Evil: 1\rReply-To: eve@evil.example";
    m.from_name = "Community\x01\x7f";
    struct composed c;
    compose_ok(&m, &c);
    char names[32][64];
    size_t n = field_names(c.headers, names, 32);
    assert_int_equal(n, 12); /* the usual headers, no In-Reply-To/References here */
    for (size_t i = 0; i < n; i++) {
        assert_true(strcasecmp(names[i], "Bcc") != 0);
        assert_true(strcasecmp(names[i], "X-Evil") != 0);
        assert_true(strcasecmp(names[i], "Reply-To") != 0);
    }
    for (const char *p = c.headers; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        assert_true(ch >= 0x20 || ch == '\r' || ch == '\n');
        assert_true(ch != 0x7f);
    }
    char *v = header_value(c.headers, "Subject");
    assert_string_equal(v, "Hello Bcc: victim@example.com Injected body");
    free(v);
    assert_null(strstr(c.headers, "\r\n\r\n"));
    composed_free(&c);
}

static void
test_bad_addresses_refused(void **state)
{
    (void)state;
    const char *bad[] = {"ana@example.net\r\nBcc: x@example.com",
                         "ana @example.net",
                         "ana",
                         "@example.net",
                         "ana@",
                         "ana@exa mple.net",
                         "a..b@example.net",
                         "ana@example..net",
                         "<ana@example.net>",
                         "ana@example.net\t",
                         "an\x01"
                         "a@example.net"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(compose_address_ok(bad[i]));
        struct compose_msg m = base_msg();
        m.to_addr = bad[i];
        char *h = NULL, *b = NULL, *id = NULL, err[256] = "";
        assert_int_equal(compose_message(&m, &h, &b, &id, err, sizeof(err)), -1);
        assert_null(h);
        assert_null(b);
        assert_null(id);
        assert_true(err[0] != '\0');
        assert_null(strchr(err, '\n'));
    }
    assert_true(compose_address_ok("ana.silva+mentor@mail.example.net"));
    assert_true(compose_address_ok("newcomer@localhost"));
}

static void
test_message_id(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    struct composed a, b;
    compose_ok(&m, &a);
    compose_ok(&m, &b);
    assert_string_not_equal(a.msgid, b.msgid);
    /* 32 hex digits, '.', the time, '@', the domain */
    for (int i = 0; i < 32; i++)
        assert_true(isxdigit((unsigned char)a.msgid[i]));
    assert_string_equal(a.msgid + 32, ".1769850000@example.org");
    char *v = header_value(a.headers, "Message-ID");
    char want[128];
    snprintf(want, sizeof(want), "<%s>", a.msgid);
    assert_string_equal(v, want);
    free(v);
    composed_free(&a);
    composed_free(&b);

    m.msgid_domain = "bad domain\r\n";
    char *h = NULL, *bd = NULL, *id = NULL, err[256];
    assert_int_equal(compose_message(&m, &h, &bd, &id, err, sizeof(err)), -1);
}

static void
test_references(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.in_reply_to = "reply2@example.net";
    m.references = "root@example.org  <reply1@example.net>";
    struct composed c;
    compose_ok(&m, &c);
    char *v = header_value(c.headers, "In-Reply-To");
    assert_string_equal(v, "<reply2@example.net>");
    free(v);
    v = header_value(c.headers, "References");
    assert_string_equal(v, "<root@example.org> <reply1@example.net> <reply2@example.net>");
    free(v);
    composed_free(&c);

    /* A long thread keeps the newest ten, folded under 78 characters. */
    m.references = "id01@a.example id02@a.example id03@a.example id04@a.example "
                   "id05@a.example id06@a.example id07@a.example id08@a.example "
                   "id09@a.example id10@a.example id11@a.example id12@a.example";
    m.in_reply_to = "id13@a.example";
    compose_ok(&m, &c);
    assert_lines_short(c.headers);
    v = header_value(c.headers, "References");
    assert_string_equal(v, "<id04@a.example> <id05@a.example> <id06@a.example> <id07@a.example> "
                           "<id08@a.example> <id09@a.example> <id10@a.example> <id11@a.example> "
                           "<id12@a.example> <id13@a.example>");
    free(v);
    composed_free(&c);

    /* No answered mail: no threading headers. */
    m.in_reply_to = NULL;
    m.references = NULL;
    compose_ok(&m, &c);
    assert_null(strstr(c.headers, "In-Reply-To"));
    assert_null(strstr(c.headers, "References"));
    composed_free(&c);
}

static void
test_long_ascii_subject_folds(void **state)
{
    (void)state;
    struct compose_msg m = base_msg();
    m.subject = "A rather long subject line with many short words that must be folded "
                "across more than one header line to stay under the limit";
    struct composed c;
    compose_ok(&m, &c);
    assert_lines_short(c.headers);
    char *v = header_value(c.headers, "Subject");
    assert_string_equal(v, m.subject); /* unfolding restores it exactly */
    free(v);
    composed_free(&c);
}

/* buf_reserve makes room once: what is added within it is not moved, and beyond it grows as before. */
/* buf_join: the strings up to the NULL, in order, empty ones included. */
static void
test_buf_join(void **state)
{
    (void)state;
    char *s = buf_join("mailto:", "a@b.example", "", "?subject=leave", (char *)NULL);
    assert_string_equal(s, "mailto:a@b.example?subject=leave");
    free(s);
    s = buf_join("", (char *)NULL);
    assert_string_equal(s, "");
    free(s);
}

static void
test_buf_reserve(void **state)
{
    (void)state;
    struct buf b = {0};

    assert_int_equal(buf_reserve(&b, 1000), 0);
    assert_true(b.cap >= 1001);
    assert_string_equal(b.data, "");
    const char *data = b.data;
    size_t cap = b.cap;
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_str(&b, "0123456789"), 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(buf_reserve(&b, 0), 0);
    assert_int_equal(buf_str(&b, "x"), 0);
    assert_int_equal(b.len, 1001);
    char *s = buf_take(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 1001);
    assert_int_equal(s[1000], 'x');
    free(s);
    struct buf e = {0};
    assert_int_equal(buf_reserve(&e, 0), 0);
    s = buf_take(&e);
    assert_string_equal(s, "");
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_join),
        cmocka_unit_test(test_buf_reserve),
        cmocka_unit_test(test_headers_present_and_ordered),
        cmocka_unit_test(test_ascii_body_is_7bit_crlf_wrapped),
        cmocka_unit_test(test_7bit_test_every_byte_place),
        cmocka_unit_test(test_body_line_of_78_left_whole),
        cmocka_unit_test(test_wrap_keeps_dates_names_addresses),
        cmocka_unit_test(test_utf8_body_is_quoted_printable),
        cmocka_unit_test(test_utf8_subject_encoded_words),
        cmocka_unit_test(test_encode_word),
        cmocka_unit_test(test_specials_in_name_quoted),
        cmocka_unit_test(test_header_injection_impossible),
        cmocka_unit_test(test_bad_addresses_refused),
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_long_ascii_subject_folds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
