/* table.h - the descriptor tables of the extension points (optimizers, models, data
 * formats), made the same way from a list macro, in the style of ggml's enum-indexed
 * tables:
 *
 *     #define HC_MODEL_LIST(X, T) \
 *         X(T, MODEL_MLP, model_mlp) \
 *         X(T, MODEL_CNN, model_cnn)
 *
 * HC_TABLE_ENUM(HC_MODEL_LIST) gives the kinds (MODEL_MLP, MODEL_CNN, ...), and
 * HC_TABLE_DEFINE(hc_model_desc, models, HC_MODEL_LIST, MODEL_COUNT) declares each
 * descriptor (defined in its own file) and defines `static const hc_model_desc *const
 * models[]` indexed by kind, with a compile-time check of its length. */
#ifndef HC_TABLE_H
#define HC_TABLE_H

#define HC_TABLE_KIND_(T, kind, desc) kind,
#define HC_TABLE_EXTERN_(T, kind, desc) extern const T desc;
#define HC_TABLE_ENTRY_(T, kind, desc) [kind] = &desc,

#define HC_TABLE_ENUM(LIST) LIST(HC_TABLE_KIND_, ignored)

#define HC_TABLE_DEFINE(T, name, LIST, count)                                        \
    LIST(HC_TABLE_EXTERN_, T)                                                        \
    static const T *const name[] = {LIST(HC_TABLE_ENTRY_, T)};                       \
    _Static_assert(sizeof name / sizeof *name == (count), "one descriptor per kind of " #LIST)

#endif
