/* test_stack_parse.c - the --stack grammar: good strings and what they parse to, bad
 * strings and where their message points, stack_format round trips, a tall stack. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stack.h"
#include "tap.h"

#define MAXL 4

typedef struct {
    hc_opt_kind kind;
    double eff[HC_MAX_HYPER];
    int clip, clip_global, per_tensor;
} want_level;

typedef struct {
    const char *text;
    int n_levels;
    want_level level[MAXL];
} good_case;

typedef struct {
    const char *text;
    int column;
    const char *what;   /* substring of the message */
} bad_case;

/* The text with control characters as '?', so every TAP line stays one line. */
static const char *printable(const char *text, char *buf, size_t size)
{
    size_t i;
    for (i = 0; text[i] && i + 1 < size; i++)
        buf[i] = (unsigned char)text[i] < 0x20 ? '?' : text[i];
    buf[i] = '\0';
    return buf;
}

/* Keys per kind, in the descriptor's order. */
static int n_keys(hc_opt_kind k) { return optim_desc(k)->n_keys; }

/* Levels equal: kind, the kind's values exactly (strtod rounds like the literals),
 * unused slots zero, switches. */
static int level_equal(const hc_level_spec *a, const want_level *b)
{
    if (a->kind != b->kind || a->clip != b->clip || a->clip_global != b->clip_global ||
        a->per_tensor != b->per_tensor)
        return 0;
    for (int h = 0; h < HC_MAX_HYPER; h++)
        if (a->eff[h] != (h < n_keys(b->kind) ? b->eff[h] : 0.0)) return 0;
    return 1;
}

static int spec_equal(const hc_stack_spec *a, const hc_stack_spec *b)
{
    if (a->n_levels != b->n_levels) return 0;
    for (int k = 0; k < a->n_levels; k++) {
        const hc_level_spec *l = &b->level[k];
        want_level w = {l->kind, {l->eff[0], l->eff[1], l->eff[2]}, l->clip, l->clip_global,
                        l->per_tensor};
        if (!level_equal(&a->level[k], &w)) return 0;
    }
    return 1;
}

#define SGD(a, m, c, g) {OPT_SGD, {a, m, 0}, c, g, 0}
#define ADAM(a, b1, b2) {OPT_ADAM, {a, b1, b2}, 0, 0, 0}
#define ADAGRAD(a) {OPT_ADAGRAD, {a, 0, 0}, 0, 0, 0}
#define RMSPROP(a, g) {OPT_RMSPROP, {a, g, 0}, 0, 0, 0}
#define SGD_PER_TENSOR(a) {OPT_SGD, {a, 0, 0}, 0, 0, 1}

static const good_case GOOD[] = {
    {"adam / sgd(alpha=1e-3, clip=on)", 2, {ADAM(0.001, 0.9, 0.999), SGD(1e-3, 0, 1, 0)}},
    {"sgd / sgd / sgd / sgd", 4,
     {SGD(0.01, 0, 0, 0), SGD(0.01, 0, 0, 0), SGD(0.01, 0, 0, 0), SGD(0.01, 0, 0, 0)}},
    {"ADAM(Alpha=1e-3)/SGD(mu=0.9,clip=on,clip_scope=global)", 2,
     {ADAM(1e-3, 0.9, 0.999), SGD(0.01, 0.9, 1, 1)}},
    {"sgd", 1, {SGD(0.01, 0, 0, 0)}},
    {"adam", 1, {ADAM(0.001, 0.9, 0.999)}},
    {"adagrad", 1, {ADAGRAD(0.01)}},
    {"rmsprop", 1, {RMSPROP(0.01, 0.99)}},
    {"rmsprop(gamma=0.5) / sgd(alpha=0.025, clip=off)", 2,
     {RMSPROP(0.01, 0.5), SGD(0.025, 0, 0, 0)}},
    {"adam(alpha=1e-3) / sgd(alpha=1e-2, clip=on)", 2,
     {ADAM(1e-3, 0.9, 0.999), SGD(1e-2, 0, 1, 0)}},
    {"  sgd ( alpha = 0.5 , mu = 0.25 )  ", 1, {SGD(0.5, 0.25, 0, 0)}},
    {"\tadam()\n/\nsgd ( )", 2, {ADAM(0.001, 0.9, 0.999), SGD(0.01, 0, 0, 0)}},
    {"adam(beta2=0.99, beta1=0.5, alpha=0)", 1, {ADAM(0, 0.5, 0.99)}},
    {"AdaGrad(ALPHA=2)", 1, {ADAGRAD(2)}},
    {"rmsprop(alpha=0, gamma=1e-6)", 1, {RMSPROP(0, 1e-6)}},
    {"sgd(mu=0.999)/sgd(clip_scope=global)", 2, {SGD(0.01, 0.999, 0, 0), SGD(0.01, 0, 0, 1)}},
    {"sgd/sgd(clip=ON, clip_scope=Per-Hyper)", 2, {SGD(0.01, 0, 0, 0), SGD(0.01, 0, 1, 0)}},
    {"adam/sgd(alpha=+1.5e+0,mu=.5)", 2, {ADAM(0.001, 0.9, 0.999), SGD(1.5, 0.5, 0, 0)}},
    /* any optimizer at any level (gdtuo), and gdtuo's variants */
    {"sgd / adam", 2, {SGD(0.01, 0, 0, 0), ADAM(0.001, 0.9, 0.999)}},
    {"adam / adam / sgd(alpha=1e-4)", 3,
     {ADAM(0.001, 0.9, 0.999), ADAM(0.001, 0.9, 0.999), SGD(1e-4, 0, 0, 0)}},
    {"rmsprop / adagrad", 2, {RMSPROP(0.01, 0.99), ADAGRAD(0.01)}},
    {"Adam_Baydin(beta1=0.8) / sgd", 2,
     {{OPT_ADAM_BAYDIN, {0.001, 0.8, 0.999}, 0, 0, 0}, SGD(0.01, 0, 0, 0)}},
    {"rmsprop_alpha(gamma=0.5)", 1, {{OPT_RMSPROP_ALPHA, {0.01, 0.5, 0}, 0, 0, 0}}},
    {"sgd(per_tensor=on) / sgd(per_tensor=ON, alpha=1e-3)", 2,
     {SGD_PER_TENSOR(0.01), {OPT_SGD, {1e-3, 0, 0}, 0, 0, 1}}},
};

static const bad_case BAD[] = {
    {"sgd / adm(alpha=1)", 7, "unknown optimizer 'adm'"},
    {"", 1, "empty stack"},
    {"   ", 1, "empty stack"},
    {"adam //sgd", 7, "empty level 2"},
    {"adam /", 7, "empty level 2"},
    {"/adam", 1, "empty level 1"},
    {"adam / adam(clip=on)", 13, "clip is only for sgd at level >= 2, not adam at level 2: "
                                 "the clipping paper's clip is part of SGD's step"},
    {"sgd / sgd / rmsprop(clip_scope=global)", 21, "clip_scope is only for sgd at level >= 2"},
    {"adam(per_tensor=on)", 6, "per_tensor is only for sgd"},
    {"sgd(per_tensor=on, mu=0.5)", 1, "per_tensor=on has no momentum (mu must be 0)"},
    {"sgd(per_tensor=yes)", 16, "bad value 'yes' for per_tensor (expected on or off)"},
    {"adam_baydin(mu=0.9)", 13, "unknown key 'mu' for adam_baydin (valid: alpha, beta1, beta2)"},
    {"adam(mu=0.9)", 6, "unknown key 'mu' for adam (valid: alpha, beta1, beta2)"},
    {"sgd/sgd(gamma=1)", 9, "valid: alpha, mu, clip, clip_scope"},
    {"sgd(alpha=1, alpha=2)", 14, "duplicate key 'alpha'"},
    {"sgd/sgd(clip=on, CLIP=off)", 18, "duplicate key 'CLIP'"},
    {"sgd(alpha 1)", 11, "missing '=' after 'alpha'"},
    {"sgd(alpha=)", 11, "missing value for 'alpha'"},
    {"sgd(alpha=", 11, "missing value"},
    {"sgd(alpha=1x)", 11, "bad number '1x' for alpha"},
    {"sgd(alpha=nan)", 11, "bad number 'nan'"},
    {"sgd(alpha=inf)", 11, "bad number 'inf'"},
    {"sgd(alpha=1e999)", 11, "bad number '1e999'"},
    {"sgd(alpha=-1)", 11, "alpha=-1 is out of range: alpha must be >= 0"},
    {"sgd(mu=1)", 8, "mu must be in [0, 1)"},
    /* in range, but the raw form log((1 + z)/(1 - z))/2, z = 2b - 1, is -inf or +inf in
     * the float build: the run would train on an infinite hyperparameter */
    {"adam(beta1=1e-17)", 12, "beta1=1e-17 is too close to 0: its raw form"},
    {"rmsprop(gamma=1e-9)", 15, "gamma=1e-9 is too close to 0"},
    {"adam(beta2=0.99999999999)", 12, "beta2=0.99999999999 is too close to 1"},
    {"sgd(mu=-0.1)", 8, "mu must be in [0, 1)"},
    {"adam(beta1=1)", 12, "beta1 must be in (0, 1)"},
    {"adam(beta2=0)", 12, "beta2 must be in (0, 1)"},
    {"rmsprop(gamma=1.5)", 15, "gamma must be in (0, 1)"},
    {"sgd(alpha=1", 12, "missing ')' or ','"},
    {"sgd(alpha=1 mu=0)", 13, "missing ')' or ',' (found 'mu')"},
    {"sgd(", 5, "missing ')'"},
    {"sgd(alpha=1,)", 13, "expected a key name, found ')'"},
    {"sgd(alpha=1) x", 14, "unexpected 'x' after ')'"},
    {"sgd(alpha=1)(", 13, "unexpected '(' after ')'"},
    {"sgd adam", 5, "unexpected 'adam' after sgd"},
    {"sgd(clip=on)", 5, "clip is only for sgd at level >= 2, not sgd at level 1"},
    {"adam(clip_scope=global)", 6, "clip_scope is only for sgd at level >= 2, not adam"},
    {"sgd/sgd(clip=yes)", 14, "bad value 'yes' for clip (expected on or off)"},
    {"sgd/sgd(clip_scope=all)", 20, "expected per-hyper or global"},
    {"(alpha=1)", 1, "expected an optimizer name"},
};

static void test_good(void)
{
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        const good_case *g = &GOOD[i];
        hc_stack_spec s;
        hc_err e = {0, ""};
        int rc = stack_parse(g->text, &s, &e), same = rc == HC_OK && s.n_levels == g->n_levels;
        for (int k = 0; same && k < g->n_levels; k++) same = level_equal(&s.level[k], &g->level[k]);
        char shown[128];
        if (!ok(same, "good: parses as expected: '%s'", printable(g->text, shown, sizeof shown)))
            diag("rc=%d msg=%s levels=%d", rc, e.msg, rc ? -1 : s.n_levels);
        stack_spec_free(&s);
    }
}

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad_case *b = &BAD[i];
        hc_stack_spec s = {7, NULL};
        hc_err e = {0, ""};
        char head[64];
        int rc = stack_parse(b->text, &s, &e);
        snprintf(head, sizeof head, "bad --stack at column %d: ", b->column);
        int good_msg = rc == HC_ERR_USAGE && e.code == HC_ERR_USAGE &&
                       strncmp(e.msg, head, strlen(head)) == 0 && strstr(e.msg, b->what) &&
                       !strchr(e.msg, '\n') && strlen(e.msg) < 300;
        if (!ok(good_msg && s.n_levels == 0 && s.level == NULL, "bad: '%s' -> column %d, '%s'",
                b->text, b->column, b->what))
            diag("rc=%d msg=%s", rc, e.msg);
        if (i < 3) diag("e.g. %s", e.msg);   /* what a user sees */
    }
}

/* A failure on a very long string: one short line, the right column, a cut quote. */
static void test_long_message(void)
{
    size_t n = 2000;
    char *text = malloc(n + 32), head[64];
    hc_stack_spec s;
    hc_err e = {0, ""};
    int rc;
    strcpy(text, "adam / sgd(alpha=1,");
    size_t len = strlen(text);
    while (len < n) text[len++] = ' ';
    strcpy(text + len, "bogus=1)\n");
    rc = stack_parse(text, &s, &e);
    snprintf(head, sizeof head, "bad --stack at column %zu: unknown key 'bogus'", len + 1);
    ok(rc == HC_ERR_USAGE && strncmp(e.msg, head, strlen(head)) == 0 && strlen(e.msg) < 300 &&
           strstr(e.msg, "...") && strstr(e.msg, "bogus=1)") && !strchr(e.msg, '\n'),
       "long string: short one-line message around the column (%zu chars)", strlen(e.msg));
    free(text);
}

/* format -> parse gives the same spec, and format is a fixed point. */
static int round_trip(const hc_stack_spec *spec, const char *label)
{
    char a[4096], b[4096];
    hc_stack_spec back;
    hc_err e = {0, ""};
    stack_format(spec, a, sizeof a);
    int rc = stack_parse(a, &back, &e), same = rc == HC_OK && spec_equal(spec, &back);
    if (same) {
        stack_format(&back, b, sizeof b);
        same = strcmp(a, b) == 0;
    }
    if (!ok(same, "round trip %s: '%.200s%s'", label, a, strlen(a) > 200 ? "..." : ""))
        diag("rc=%d msg=%s", rc, e.msg);
    stack_spec_free(&back);
    return same;
}

static void test_format(void)
{
    static const char *texts[] = {
        "adam / sgd(alpha=1e-3, clip=on)",
        "ADAM(Alpha=1e-3)/SGD(mu=0.9,clip=on,clip_scope=global)",
        "rmsprop(gamma=0.5) / sgd(alpha=0.025, clip=off) / sgd(alpha=3e-7, mu=0.5)",
        "adagrad(alpha=0.123456789012345)",
        "sgd(alpha=0.3333333333333333, mu=0.1) / sgd(clip_scope=global)",
    };
    static const struct { const char *in, *out; } canon[] = {
        {"adam / sgd(alpha=1e-3, clip=on)",
         "adam(alpha=0.001, beta1=0.9, beta2=0.999) / sgd(alpha=0.001, mu=0, clip=on)"},
        {"SGD/sgd(clip_scope=global)/sgd",
         "sgd(alpha=0.01, mu=0) / sgd(alpha=0.01, mu=0, clip=off, clip_scope=global) / "
         "sgd(alpha=0.01, mu=0, clip=off)"},
        {"adagrad()/sgd(alpha=0.3333333333333333)",
         "adagrad(alpha=0.01) / sgd(alpha=0.33333333333333331, mu=0, clip=off)"},
        {"rmsprop", "rmsprop(alpha=0.01, gamma=0.99)"},
        {"sgd(per_tensor=on) / adam_baydin / rmsprop_alpha",
         "sgd(alpha=0.01, mu=0, per_tensor=on) / adam_baydin(alpha=0.001, beta1=0.9, "
         "beta2=0.999) / rmsprop_alpha(alpha=0.01, gamma=0.99)"},
    };
    char buf[1024];

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        hc_stack_spec s;
        hc_err e = {0, ""};
        if (stack_parse(texts[i], &s, &e)) {
            ok(0, "round trip: parse '%s'", texts[i]);
            diag("%s", e.msg);
            continue;
        }
        round_trip(&s, "of parsed");
        stack_spec_free(&s);
    }
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        hc_stack_spec s;
        hc_err e = {0, ""};
        buf[0] = '\0';
        if (stack_parse(canon[i].in, &s, &e) == HC_OK) stack_format(&s, buf, sizeof buf);
        if (!ok(strcmp(buf, canon[i].out) == 0, "format: '%s' canonical", canon[i].in))
            diag("got '%s' (%s)", buf, e.msg);
        stack_spec_free(&s);
    }

    /* Doubles that need all 17 digits, built without the parser. */
    hc_level_spec lv[3] = {
        {OPT_ADAM, {1.0 / 3, nextafter(0.9, 1), nextafter(0.999, 0)}, 0, 0, 0},
        {OPT_SGD, {nextafter(1e-3, 1), 0.1 * 3, 0}, 1, 1, 0},
        {OPT_SGD, {5e-324, 0x1p-30, 0}, 0, 0, 0},
    };
    hc_stack_spec made = {3, lv};
    round_trip(&made, "of exact doubles");

    /* A small buffer is cut and terminated, never overrun. */
    char small[12];
    memset(small, 'x', sizeof small);
    stack_format(&made, small, 10);
    ok(strlen(small) == 9 && small[10] == 'x' && strncmp(small, "adam(alph", 9) == 0,
       "format: cut to the buffer size ('%s')", small);
}

static void test_tall(void)
{
    const int n = 50;
    char text[50 * 8];
    hc_stack_spec s;
    hc_err e = {0, ""};
    int rc, good;
    strcpy(text, "adam");
    for (int k = 1; k < n; k++) strcat(text, k % 2 ? " / sgd" : "/SGD()");
    rc = stack_parse(text, &s, &e);
    good = rc == HC_OK && s.n_levels == n && s.level[0].kind == OPT_ADAM;
    for (int k = 1; good && k < n; k++) {
        const hc_level_spec *l = &s.level[k];
        good = l->kind == OPT_SGD && l->eff[0] == 0.01 && l->eff[1] == 0 && !l->clip;
    }
    if (!ok(good, "a %d-level stack parses", n)) diag("rc=%d msg=%s", rc, e.msg);
    if (rc == HC_OK) round_trip(&s, "of 50 levels");
    stack_spec_free(&s);
    stack_spec_free(&s);
    ok(s.n_levels == 0 && s.level == NULL, "stack_spec_free zeroes and is safe twice");
}

/* The README's grammar table lists every optimizer of the table with its keys and
 * defaults: "| `adam` | `alpha`=0.001, `beta1`=0.9, ...". */
static void readme_lists_the_table(void)
{
    const char *dir = getenv("srcdir");
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/README.md", dir ? dir : ".");
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f && (text = calloc(1, 1 << 20))) n = fread(text, 1, (1 << 20) - 1, f);
    if (f) fclose(f);
    ok(n > 0, "README.md read from %s", path);
    for (int k = 0; n > 0 && k < OPT_COUNT; k++) {
        const hc_optim_desc *o = optim_desc((hc_opt_kind)k);
        char want[96], *row, *end;
        snprintf(want, sizeof want, "| `%s` | ", o->name);
        row = strstr(text, want);
        end = row ? strchr(row, '\n') : NULL;
        int all = row && end;
        for (int h = 0; all && h < o->n_keys; h++) {
            snprintf(want, sizeof want, "`%s`=%g", o->key[h].name, o->key[h].def);
            char *at = strstr(row, want);
            all = at && at < end;
        }
        ok(all, "README's stack grammar has %s with every key and default", o->name);
    }
    free(text);
}

int main(void)
{
    test_good();
    test_bad();
    test_long_message();
    test_format();
    test_tall();
    readme_lists_the_table();
    return tap_done();
}
