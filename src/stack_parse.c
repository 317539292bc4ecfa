/* stack_parse.c - the --stack string (interfaces.md "Stack grammar").
 *
 *   stack := level { '/' level }
 *   level := name [ '(' [ item { ',' item } ] ')' ]
 *   item  := key '=' value
 *
 * Whitespace may sit between any two tokens; names, keys and switch values match in any
 * letter case. Values are effective hyperparameters (alpha, mu, beta1, ...), checked
 * against the range their raw form can represent. Every error is one line that names
 * the problem, gives the 1-based byte column of the offending token and quotes the
 * string, so a user can find a typo in a long stack at a glance. */
#include "stack.h"
#include "hc_real.h"
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The optimizers, their keys, defaults and ranges: the descriptor table (optim_list.h).
 * Bits of the "seen" mask for the switches, after the hyperparameters' bits. */
#define SEEN_CLIP (1u << HC_MAX_HYPER)
#define SEEN_SCOPE (1u << (HC_MAX_HYPER + 1))
#define SEEN_PER_TENSOR (1u << (HC_MAX_HYPER + 2))

/* ---- cursor and tokens ---- */

typedef struct {
    const char *text;   /* the whole string, quoted in messages */
    const char *p;      /* next unread character */
    hc_err *e;
} cursor;

typedef struct {
    const char *s;      /* first character, inside cursor.text */
    size_t len;
} token;

static void skip_ws(cursor *c)
{
    while (isspace((unsigned char)*c->p)) c->p++;
}

static int is_ident_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/* Ends a value and an unexpected-text token: a number or switch value may hold '-',
 * '+', '.', so only whitespace and the grammar's separators end it. */
static int ends_value(char ch)
{
    return ch == '\0' || isspace((unsigned char)ch) || ch == ',' || ch == ')' || ch == '/';
}

static token take_ident(cursor *c)
{
    token t = {c->p, 0};
    while (is_ident_char(c->p[0])) c->p++;
    t.len = (size_t)(c->p - t.s);
    return t;
}

static token take_value(cursor *c)
{
    token t = {c->p, 0};
    while (!ends_value(c->p[0])) c->p++;
    t.len = (size_t)(c->p - t.s);
    return t;
}

/* The token starting at p, for "found X" in messages: at least one character. */
static token token_at(const char *p)
{
    token t = {p, 0};
    while (!ends_value(p[t.len]) && !strchr("(=", p[t.len])) t.len++;
    if (t.len == 0 && *p) t.len = 1;
    return t;
}

static int tok_is(token t, const char *word)
{
    size_t i;
    for (i = 0; i < t.len; i++)
        if (!word[i] || tolower((unsigned char)t.s[i]) != word[i]) return 0;
    return word[i] == '\0';
}

/* 'token' for a message, cut to 32 characters; "end of string" for an empty token at
 * the end, so "found end of string" reads right. */
static const char *show(token t, char *buf, size_t size)
{
    const int max = 32;
    if (t.len == 0 && *t.s == '\0')
        snprintf(buf, size, "end of string");
    else if (t.len > (size_t)max)
        snprintf(buf, size, "'%.*s...'", max, t.s);
    else
        snprintf(buf, size, "'%.*s'", (int)t.len, t.s);
    return buf;
}

/* ---- errors ---- */

/* The part of the string quoted in messages: all of it, or for a long string a window
 * around the offending column with "..." where cut, which keeps a message readable. */
static void quote_window(const char *text, size_t at, char *out, size_t size)
{
    const size_t max = 120;
    size_t len = strlen(text), start = 0, n = len;
    if (len > max) {
        n = max;
        start = at > max / 2 ? at - max / 2 : 0;
        if (start > len - n) start = len - n;
    }
    snprintf(out, size, "%s%.*s%s", start ? "..." : "", (int)n, text + start,
             start + n < len ? "..." : "");
}

/* "bad --stack at column C: WHAT in 'TEXT'" for the token starting at `at`. */
static int fail_at(const cursor *c, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(const cursor *c, const char *at, const char *fmt, ...)
{
    char what[256], quoted[160], msg[512];
    size_t col = (size_t)(at - c->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    quote_window(c->text, col, quoted, sizeof quoted);
    snprintf(msg, sizeof msg, "bad --stack at column %zu: %s in '%s'", col + 1, what, quoted);
    /* One line, whatever the string held (tabs, newlines, escape codes). */
    for (char *q = msg; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f) *q = ' ';
    return hc_fail(c->e, HC_ERR_USAGE, "%s", msg);
}

/* ---- values ---- */

static const char *range_text(hc_key_range r)
{
    switch (r) {
    case RANGE_NONNEG: return ">= 0";
    case RANGE_HALF_OPEN01: return "in [0, 1)";
    case RANGE_OPEN01: return "in (0, 1)";
    }
    return "?";
}

static int in_range(double v, hc_key_range r)
{
    switch (r) {
    case RANGE_NONNEG: return v >= 0;
    case RANGE_HALF_OPEN01: return v >= 0 && v < 1;
    case RANGE_OPEN01: return v > 0 && v < 1;
    }
    return 0;
}

/* A finite number filling the whole value token, within the key's range. */
static int parse_number(const cursor *c, token v, const char *key, hc_key_range r, double *out)
{
    char copy[64], buf[48];
    char *end;
    if (v.len >= sizeof copy)   /* no sane number is that long; strtod needs a copy */
        return fail_at(c, v.s, "bad number %s for %s", show(v, buf, sizeof buf), key);
    memcpy(copy, v.s, v.len);
    copy[v.len] = '\0';
    *out = strtod(copy, &end);
    if (end == copy || *end != '\0' || !isfinite(*out))
        return fail_at(c, v.s, "bad number %s for %s", show(v, buf, sizeof buf), key);
    if (!in_range(*out, r))
        return fail_at(c, v.s, "%s=%s is out of range: %s must be %s", key, copy, key,
                       range_text(r));
    /* the optimizer works on the raw form, in hc_real: 1e-17 is in (0, 1), but its raw
     * form is -inf (and 1e-9 already in float32) */
    if (r == RANGE_OPEN01 && !isfinite(unsquash01(*out)))
        return fail_at(c, v.s, "%s=%s is too close to %s: its raw form log((1 + z)/(1 - z))/2, "
                       "z = 2*%s - 1, is not finite", key, copy, *out < 0.5 ? "0" : "1", key);
    /* the optimizers compute in hc_real: there too the value must be finite and in range
     * (alpha=1e39 is infinite in float32, mu=0.99999999999 is 1) */
    volatile hc_real as_real = (hc_real)*out;
    if (!isfinite(as_real) || !in_range((double)as_real, r))
        return fail_at(c, v.s, "%s=%s is %g in the build's %s arithmetic: %s must be %s there",
                       key, copy, (double)as_real, HC_REAL_IS_DOUBLE ? "double" : "float32", key,
                       isfinite(as_real) ? range_text(r) : "finite");
    return HC_OK;
}

/* The switches a level may take: clip and clip_scope (levels >= 2 of an optimizer that
 * has the clip), per_tensor. Each is two words; *out = 1 for the first. */
typedef enum { SW_CLIP, SW_SCOPE, SW_PER_TENSOR, SW_COUNT } switch_id;
static const struct {
    const char *key, *yes, *no, *expected;
    unsigned seen;
} SWITCHES[SW_COUNT] = {
    [SW_CLIP] = {"clip", "on", "off", "on|off", SEEN_CLIP},
    [SW_SCOPE] = {"clip_scope", "global", "per-hyper", "per-hyper|global", SEEN_SCOPE},
    [SW_PER_TENSOR] = {"per_tensor", "on", "off", "on|off", SEEN_PER_TENSOR},
};

static int parse_switch(const cursor *c, token v, switch_id sw, int *out)
{
    char buf[48];
    if (tok_is(v, SWITCHES[sw].yes) || tok_is(v, SWITCHES[sw].no)) {
        *out = tok_is(v, SWITCHES[sw].yes);
        return HC_OK;
    }
    return fail_at(c, v.s, "bad value %s for %s (expected %s or %s)", show(v, buf, sizeof buf),
                   SWITCHES[sw].key, sw == SW_SCOPE ? SWITCHES[sw].no : SWITCHES[sw].yes,
                   sw == SW_SCOPE ? SWITCHES[sw].yes : SWITCHES[sw].no);
}

static int *switch_field(hc_level_spec *lvl, switch_id sw)
{
    return sw == SW_CLIP ? &lvl->clip : sw == SW_SCOPE ? &lvl->clip_global : &lvl->per_tensor;
}

/* Whether level `index` (0-based) of this optimizer takes switch sw. */
static int takes_switch(const hc_optim_desc *o, int index, switch_id sw)
{
    if (sw == SW_PER_TENSOR) return (o->switches & HC_SWITCH_PER_TENSOR) != 0;
    return (o->switches & HC_SWITCH_CLIP) && index > 0;
}

/* ---- levels ---- */

/* "alpha, mu" (+ the switches this level takes), for "unknown key" messages. */
static void valid_keys(const hc_optim_desc *o, int index, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < o->n_keys && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", o->key[i].name);
    for (int sw = 0; sw < SW_COUNT && len < size; sw++)
        if (takes_switch(o, index, (switch_id)sw))
            len += (size_t)snprintf(out + len, size - len, ", %s", SWITCHES[sw].key);
}

/* Why a level cannot take a switch that exists. */
static int refuse_switch(const cursor *c, token key, const hc_optim_desc *o, int index,
                         switch_id sw)
{
    if (sw == SW_PER_TENSOR)
        return fail_at(c, key.s, "per_tensor is only for sgd (gdtuo's SGDPerParam), not %s",
                       o->name);
    if (index == 0)   /* level 1 has no level above it to clip its hypergradients */
        return fail_at(c, key.s, "%s is only for sgd at level >= 2, not %s at level 1",
                       SWITCHES[sw].key, o->name);
    return fail_at(c, key.s, "%s is only for sgd at level >= 2, not %s at level %d: the "
                   "clipping paper's clip is part of SGD's step (its authors call it only from SGD.step)",
                   SWITCHES[sw].key, o->name, index + 1);
}

/* key '=' value, with the cursor at the key. `seen` catches a key given twice. */
static int parse_item(cursor *c, int index, hc_level_spec *lvl, unsigned *seen)
{
    const hc_optim_desc *o = optim_desc(lvl->kind);
    char buf[48], keys[128];
    token key = take_ident(c), v;
    int h = -1, sw = -1;
    unsigned bit;

    if (key.len == 0)
        return fail_at(c, key.s, "expected a key name, found %s", show(token_at(key.s), buf,
                                                                        sizeof buf));
    for (int i = 0; i < o->n_keys; i++)
        if (tok_is(key, o->key[i].name)) h = i;
    for (int i = 0; h < 0 && i < SW_COUNT; i++)
        if (tok_is(key, SWITCHES[i].key)) sw = i;
    if (sw >= 0 && !takes_switch(o, index, (switch_id)sw))
        return refuse_switch(c, key, o, index, (switch_id)sw);
    if (h < 0 && sw < 0) {
        valid_keys(o, index, keys, sizeof keys);
        return fail_at(c, key.s, "unknown key %s for %s (valid: %s)", show(key, buf, sizeof buf),
                       o->name, keys);
    }
    bit = h >= 0 ? 1u << h : SWITCHES[sw].seen;
    if (*seen & bit)
        return fail_at(c, key.s, "duplicate key %s", show(key, buf, sizeof buf));
    *seen |= bit;

    skip_ws(c);
    if (*c->p != '=')
        return fail_at(c, c->p, "missing '=' after %s", show(key, buf, sizeof buf));
    c->p++;
    skip_ws(c);
    v = take_value(c);
    if (v.len == 0)
        return fail_at(c, v.s, "missing value for %s", show(key, buf, sizeof buf));
    if (h >= 0) return parse_number(c, v, o->key[h].name, o->key[h].range, &lvl->eff[h]);
    return parse_switch(c, v, (switch_id)sw, switch_field(lvl, (switch_id)sw));
}

/* '(' [ item { ',' item } ] ')', with the cursor just after '('. */
static int parse_items(cursor *c, int index, hc_level_spec *lvl)
{
    unsigned seen = 0;
    char buf[48];
    int rc;
    skip_ws(c);
    if (*c->p == '\0') return fail_at(c, c->p, "missing ')'");
    if (*c->p == ')') {   /* "sgd()" is plain sgd */
        c->p++;
        return HC_OK;
    }
    for (;;) {
        if ((rc = parse_item(c, index, lvl, &seen))) return rc;
        skip_ws(c);
        if (*c->p == ')') {
            c->p++;
            return HC_OK;
        }
        if (*c->p != ',')
            return fail_at(c, c->p, "missing ')' or ',' (found %s)",
                           show(token_at(c->p), buf, sizeof buf));
        c->p++;
        skip_ws(c);
    }
}

/* "sgd, adam, ... or rmsprop_alpha": the table's names, for messages and --help. */
static void stack_optimizer_names(char *out, size_t size, const char *last_sep)
{
    size_t len = 0;
    out[0] = '\0';
    for (int k = 0; k < OPT_COUNT && len < size; k++)
        len += (size_t)snprintf(out + len, size - len, "%s%s",
                                k == 0 ? "" : k == OPT_COUNT - 1 ? last_sep : ", ",
                                optim_desc((hc_opt_kind)k)->name);
}

void stack_grammar_help(FILE *f, const char *indent)
{
    for (int k = 0; k < OPT_COUNT; k++) {
        const hc_optim_desc *o = optim_desc((hc_opt_kind)k);
        fprintf(f, "%s%s(", indent, o->name);
        for (int h = 0; h < o->n_keys; h++)
            fprintf(f, "%s%s=%g", h ? ", " : "", o->key[h].name, o->key[h].def);
        fprintf(f, ")  %s\n", o->about);
    }
    for (int sw = 0; sw < SW_COUNT; sw++) {
        fprintf(f, "%s%s=%s (", indent, SWITCHES[sw].key, SWITCHES[sw].expected);
        for (int k = 0, first = 1; k < OPT_COUNT; k++)
            if (takes_switch(optim_desc((hc_opt_kind)k), 1, (switch_id)sw)) {
                fprintf(f, "%s%s", first ? "" : ", ", optim_desc((hc_opt_kind)k)->name);
                first = 0;
            }
        fprintf(f, "%s)\n", sw == SW_PER_TENSOR ? "" : ", levels >= 2");
    }
}

/* The optimizer name, with the cursor at its first character. */
static int parse_name(cursor *c, hc_opt_kind *kind)
{
    char buf[48], names[160];
    token name = take_ident(c);
    for (int k = 0; name.len && k < OPT_COUNT; k++)
        if (tok_is(name, optim_desc((hc_opt_kind)k)->name)) {
            *kind = (hc_opt_kind)k;
            return HC_OK;
        }
    if (name.len == 0) {
        stack_optimizer_names(names, sizeof names, ", ");
        return fail_at(c, name.s, "expected an optimizer name (%s), found %s", names,
                       show(token_at(name.s), buf, sizeof buf));
    }
    stack_optimizer_names(names, sizeof names, " or ");
    return fail_at(c, name.s, "unknown optimizer %s (expected %s)", show(name, buf, sizeof buf),
                   names);
}

/* One level, cursor at its first non-blank; leaves the cursor after it and its blanks. */
static int parse_level(cursor *c, int index, hc_level_spec *lvl)
{
    char buf[48];
    int rc;
    if (*c->p == '/' || *c->p == '\0')
        return fail_at(c, c->p, "empty level %d (expected an optimizer name, found %s)",
                       index + 1, show(token_at(c->p), buf, sizeof buf));
    const char *start = c->p;
    if ((rc = parse_name(c, &lvl->kind))) return rc;
    const hc_optim_desc *o = optim_desc(lvl->kind);
    memset(lvl->eff, 0, sizeof lvl->eff);
    for (int h = 0; h < o->n_keys; h++) lvl->eff[h] = o->key[h].def;
    /* the clip is opt-in; per-hyper is the paper's */
    lvl->clip = lvl->clip_global = lvl->per_tensor = 0;
    skip_ws(c);
    if (*c->p == '(') {
        c->p++;
        if ((rc = parse_items(c, index, lvl))) return rc;
        /* gdtuo's SGDPerParam has step sizes only: no momentum branch to share */
        for (int h = 0; lvl->per_tensor && h < o->n_keys; h++)
            if (o->key[h].role == KEY_LEARNED_IF_NONZERO && lvl->eff[h] != 0.0)
                return fail_at(c, start, "per_tensor=on has no momentum (%s must be 0), as "
                               "gdtuo's SGDPerParam", o->key[h].name);
        skip_ws(c);
        if (*c->p != '/' && *c->p != '\0')
            return fail_at(c, c->p, "unexpected %s after ')' (expected '/' or the end)",
                           show(token_at(c->p), buf, sizeof buf));
    } else if (*c->p != '/' && *c->p != '\0') {
        return fail_at(c, c->p, "unexpected %s after %s (expected '(', '/' or the end)",
                       show(token_at(c->p), buf, sizeof buf), o->name);
    }
    return HC_OK;
}

/* Room for one more level: the stack may be any height. */
static int grow(hc_stack_spec *spec, int *cap, hc_err *e)
{
    hc_level_spec *more;
    if (spec->n_levels < *cap) return HC_OK;
    *cap = *cap ? 2 * *cap : 4;
    more = realloc(spec->level, sizeof *more * (size_t)*cap);
    if (!more) return hc_fail(e, HC_ERR_RUNTIME, "out of memory parsing --stack");
    spec->level = more;
    return HC_OK;
}

int stack_parse(const char *text, hc_stack_spec *spec, hc_err *e)
{
    cursor c = {text ? text : "", NULL, e};
    int cap = 0, rc = HC_OK;

    spec->n_levels = 0;   /* *spec is output only: whatever it held is not ours to free */
    spec->level = NULL;
    c.p = c.text;
    skip_ws(&c);
    if (*c.p == '\0') return fail_at(&c, c.text, "empty stack");
    for (;;) {
        if ((rc = grow(spec, &cap, e))) break;
        if ((rc = parse_level(&c, spec->n_levels, &spec->level[spec->n_levels]))) break;
        spec->n_levels++;
        if (*c.p == '\0') break;
        c.p++;   /* parse_level stops only at '/' or the end */
        skip_ws(&c);
    }
    if (rc) stack_spec_free(spec);   /* all or nothing */
    return rc;
}

void stack_spec_free(hc_stack_spec *spec)
{
    if (!spec) return;
    free(spec->level);
    spec->level = NULL;
    spec->n_levels = 0;
}

/* ---- formatting ---- */

typedef struct {
    char *buf;
    size_t size, len;   /* len < size always; output is cut, never overrun */
} outbuf;

static void put(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (o->size == 0) return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
    if (o->len >= o->size) o->len = o->size - 1;
}

/* The short %.9g form when it reads back as the same double (0.001 stays 0.001),
 * else %.17g, which always does: parse(format(spec)) == spec exactly. */
static void put_number(outbuf *o, double v)
{
    char s[40];
    snprintf(s, sizeof s, "%.9g", v);
    if (strtod(s, NULL) != v) snprintf(s, sizeof s, "%.17g", v);
    put(o, "%s", s);
}

void stack_format(const hc_stack_spec *spec, char *buf, size_t size)
{
    outbuf o = {buf, size, 0};
    if (size) buf[0] = '\0';
    for (int k = 0; k < spec->n_levels; k++) {
        const hc_level_spec *l = &spec->level[k];
        const hc_optim_desc *oi = optim_desc(l->kind);
        put(&o, "%s%s(", k ? " / " : "", oi->name);
        for (int h = 0; h < oi->n_keys; h++) {
            put(&o, "%s%s=", h ? ", " : "", oi->key[h].name);
            put_number(&o, l->eff[h]);
        }
        if (takes_switch(oi, k, SW_CLIP)) {
            put(&o, ", clip=%s", l->clip ? "on" : "off");
            if (l->clip_global) put(&o, ", clip_scope=global");
        }
        if (l->per_tensor) put(&o, ", per_tensor=on");
        put(&o, ")");
    }
}
