/* model_list.h - every model, one line each: X(T, KIND, descriptor) (table.h).
 *
 * The kind enum (model.h) and the descriptor table (model.c) are both made from this list,
 * so adding a model is: its own src/model_<name>.c defining `const hc_model_desc
 * model_<name>`, one line here, one word in Makefile.am. The first line is --model's
 * default; append only. */
#define HC_MODEL_LIST(X, T) \
    X(T, MODEL_MLP, model_mlp) \
    X(T, MODEL_CNN, model_cnn)
