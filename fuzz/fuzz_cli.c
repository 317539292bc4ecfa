/* fuzz_cli.c - the option parsers of `hyperclip train` and `hyperclip eval` (cli.c).
 *
 * The input is split at NUL bytes into up to 64 words (each its own allocation, so a
 * read past a word's end is caught). An accepted command line must hold values inside
 * the documented ranges; a refused one gives one clean usage message. */
#include "fuzz_common.h"
#include "cli.h"
#include "stack.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    size_t start = 0;
    if (size > 8192) return 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || data[i] == 0) {
            if (i == size && i == start && argc > 0) break;
            size_t len = i - start;
            argv[argc] = malloc(len + 1);
            memcpy(argv[argc], data + start, len);
            argv[argc][len] = '\0';
            argc++;
            start = i + 1;
        }
    }
    argv[argc] = NULL;

    hc_trainer_options o;
    int help = -1;
    hc_err e = {0};
    hc_given given;
    int rc = cli_parse_train(argc, argv, &o, &given, &help, &e);
    if (rc == 0) {
        FUZZ_CHECK(help == 0 || help == 1, "help %d", help);
        FUZZ_CHECK(o.epochs >= 1 && o.epochs <= 1000000, "epochs %d", o.epochs);
        FUZZ_CHECK(o.batch >= 1 && o.batch <= (1 << 24), "batch %d", o.batch);
        FUZZ_CHECK(o.threads >= 1 && o.threads <= 1024, "threads %d", o.threads);
        FUZZ_CHECK(o.seed >= 0 && o.max_steps >= 0 && o.checkpoint_every >= 0, "negative count");
        FUZZ_CHECK(!o.checkpoint_every || o.checkpoint_path || o.resume_path, "--checkpoint-every without a file");
        FUZZ_CHECK(!o.resume_if_exists || o.resume_path, "--resume-if-exists without a file");
        FUZZ_CHECK(o.progress >= -1 && o.progress <= 1, "progress %d", o.progress);
        const char *strs[] = {o.data_path, o.dataset_name, o.model_name, o.stack_text,
                              o.init_path, o.metrics_path, o.checkpoint_path, o.resume_path};
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
            FUZZ_CHECK(!strs[i] || strs[i][0], "option %zu accepted an empty value", i);
        /* the stack text goes on to the grammar, as trainer_init does */
        hc_stack_spec spec;
        hc_err e2 = {0};
        int rc2 = stack_parse(o.stack_text, &spec, &e2);
        if (rc2 == 0) stack_spec_free(&spec);
        else fuzz_check_error(&e2, rc2, "stack_parse");
    } else {
        fuzz_check_error(&e, rc, "cli_parse_train");
        FUZZ_CHECK(rc == HC_ERR_USAGE, "code %d: %s", rc, e.msg);
    }

    hc_eval_opts eo;
    memset(&e, 0, sizeof e);
    rc = cli_parse_eval(argc, argv, &eo, &given, &help, &e);
    if (rc == 0) {
        FUZZ_CHECK(help || (eo.checkpoint_path && eo.checkpoint_path[0]), "eval without --checkpoint");
        FUZZ_CHECK(eo.threads >= 1 && eo.threads <= 1024, "threads %d", eo.threads);
    } else {
        fuzz_check_error(&e, rc, "cli_parse_eval");
        FUZZ_CHECK(rc == HC_ERR_USAGE, "code %d: %s", rc, e.msg);
    }
    for (int i = 0; i < argc; i++) free(argv[i]);
    return 0;
}
