/* optim_list.h - every optimizer, one line each: X(T, KIND, descriptor) (table.h).
 *
 * The kind enum (optim.h) and the descriptor table (optim.c) are both made from this list,
 * so adding an optimizer is: its own src/optim_<name>.c defining `const hc_optim_desc
 * optim_<name>`, one line here, one word in Makefile.am. The order is the enum's order;
 * append only (the order is not stored anywhere, but tests name kinds by it). */
#define HC_OPTIMIZER_LIST(X, T) \
    X(T, OPT_SGD, optim_sgd) \
    X(T, OPT_ADAM, optim_adam) \
    X(T, OPT_ADAGRAD, optim_adagrad) \
    X(T, OPT_RMSPROP, optim_rmsprop) \
    X(T, OPT_ADAM_BAYDIN, optim_adam_baydin) \
    X(T, OPT_RMSPROP_ALPHA, optim_rmsprop_alpha)
