/* model_list.h - every model, one line each: HC_MODEL(KIND, descriptor).
 *
 * The kind enum (model.h) and the descriptor table (model.c) are both made from this list,
 * so adding a model is: its own src/model_<name>.c defining `const hc_model_desc
 * model_<name>`, one line here, one word in Makefile.am. The first line is --model's
 * default; append only. */
HC_MODEL(MODEL_MLP, model_mlp)
HC_MODEL(MODEL_CNN, model_cnn)
