/* optim_list.h - every optimizer, one line each: HC_OPTIMIZER(KIND, descriptor).
 *
 * The kind enum (optim.h) and the descriptor table (optim.c) are both made from this list,
 * so adding an optimizer is: its own src/optim_<name>.c defining `const hc_optim_desc
 * optim_<name>`, one line here, one word in Makefile.am. The order is the enum's order;
 * append only (the order is not stored anywhere, but tests name kinds by it). */
HC_OPTIMIZER(OPT_SGD, optim_sgd)
HC_OPTIMIZER(OPT_ADAM, optim_adam)
HC_OPTIMIZER(OPT_ADAGRAD, optim_adagrad)
HC_OPTIMIZER(OPT_RMSPROP, optim_rmsprop)
HC_OPTIMIZER(OPT_ADAM_BAYDIN, optim_adam_baydin)
HC_OPTIMIZER(OPT_RMSPROP_ALPHA, optim_rmsprop_alpha)
