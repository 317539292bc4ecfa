/* fuzz_stack.c - the --stack grammar (stack_parse.c) and the stack it builds (stack.c).
 *
 * The input is the string. A parsed stack must print (stack_format) as text that parses
 * back to the very same stack, bit for bit; a short one is then built for 8 weights and
 * stepped three times. A refused string must give one clean usage message. */
#include "fuzz_common.h"
#include "stack.h"

#define MAX_INPUT 4096

static void same_spec(const hc_stack_spec *a, const hc_stack_spec *b, const char *text)
{
    FUZZ_CHECK(a->n_levels == b->n_levels, "levels %d vs %d: %s", a->n_levels, b->n_levels, text);
    for (int k = 0; k < a->n_levels; k++) {
        const hc_level_spec *x = &a->level[k], *y = &b->level[k];
        FUZZ_CHECK(x->kind == y->kind && x->clip == y->clip && x->clip_global == y->clip_global &&
                   x->per_tensor == y->per_tensor && memcmp(x->eff, y->eff, sizeof x->eff) == 0,
                   "level %d differs after format+parse: %s", k + 1, text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    hc_stack_spec spec, again;
    hc_err e = {0};
    int rc = stack_parse(text, &spec, &e);
    if (rc != 0) {
        fuzz_check_error(&e, rc, "stack_parse");
        FUZZ_CHECK(rc == HC_ERR_USAGE, "code %d for a bad string: %s", rc, e.msg);
        FUZZ_CHECK(spec.n_levels == 0 && spec.level == NULL, "a refused string left levels");
        free(text);
        return 0;
    }
    FUZZ_CHECK(spec.n_levels >= 1, "no level");
    size_t cap = (size_t)spec.n_levels * 160 + 1;
    char *canon = malloc(cap);
    stack_format(&spec, canon, cap);
    FUZZ_CHECK(strlen(canon) < cap - 1, "canonical text cut at %zu bytes", cap);
    hc_err e2 = {0};
    rc = stack_parse(canon, &again, &e2);
    FUZZ_CHECK(rc == 0, "the canonical text does not parse: %s (%s)", canon, e2.msg);
    same_spec(&spec, &again, canon);
    stack_spec_free(&again);

    if (spec.n_levels <= 16) {
        hc_stack st;
        hc_err e3 = {0};
        rc = stack_init(&st, &spec, 8, &e3);
        if (rc == 0) {
            hc_real w[8], g[8];
            double hg[HC_MAX_HYPER];
            for (int i = 0; i < 8; i++) w[i] = (hc_real)(0.1 * (i - 4)), g[i] = (hc_real)(0.01 * (i + 1));
            for (int s = 0; s < 3; s++) {
                stack_local_hypergrads(&st, g, hg);
                stack_step(&st, hg, w, g);
            }
            stack_free(&st);
        } else {
            fuzz_check_error(&e3, rc, "stack_init");
        }
    }
    free(canon);
    stack_spec_free(&spec);
    free(text);
    return 0;
}
