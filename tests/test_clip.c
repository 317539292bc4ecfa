/* test_clip.c - the clip against sequences worked out by hand (see clip.h). */
#include <math.h>
#include <string.h>
#include "clip.h"
#include "stack.h"
#include "tap.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }
/* hyperparameters are hc_real values (float32 in this build): equal to float rounding */
static int near_hyper(double a, double b) { return fabs(a - b) <= 1e-6 * (1 + fabs(b)); }

static void constant_after_zero(void)
{
    hc_clip c;
    clip_init(&c, 1, 1, 0);
    double v, th, sc;
    v = 0; clip_apply(&c, &v, &th, &sc);
    ok(v == 0 && th == 0 && sc == 1, "step 1: |g| = 0 counts, theta = 0, g untouched");
    int all = 1;
    for (int n = 2; n <= 200; n++) {
        v = -4; clip_apply(&c, &v, &th, &sc);
        all &= near(th, 2.0) && near(v, -2.0);
    }
    ok(all, "constant |g| = 4 after a zero: theta = c/2 = 2 at every step, g' = -2 (sign kept)");
    ok(c.steps == 200, "every step counts (200)");
    clip_free(&c);
}

static void zero_left_alone(void)
{
    hc_clip c;
    clip_init(&c, 1, 1, 0);
    double v = 3, th, sc;
    clip_apply(&c, &v, &th, &sc);
    ok(v == 3 && th == 3, "n = 1: theta = |g|, no clip");
    v = 0; clip_apply(&c, &v, &th, &sc);
    ok(v == 0 && near(th, 1.5) && near(c.avg[0], 1.5), "|g| = 0 stays 0; theta = 1.5, theta' = 1.5");
    clip_free(&c);
}

static void spike(void)
{
    hc_clip c;
    clip_init(&c, 1, 1, 0);
    double v = 5, th, sc;
    clip_apply(&c, &v, &th, &sc);
    v = 10; clip_apply(&c, &v, &th, &sc);
    ok(near(th, 7.5) && near(v, 7.5) && near(sc, 0.75) && near(c.avg[0], 6.25),
       "spike 10 after 5: theta 7.5, g' 7.5, theta' 6.25 (got %g %g %g)", th, v, c.avg[0]);
    v = 1; clip_apply(&c, &v, &th, &sc);
    ok(near(th, 4.5) && v == 1 && near(c.avg[0], 4.5), "then 1: below theta 4.5, untouched");
    clip_free(&c);
}

static void off_tracks(void)
{
    hc_clip c;
    clip_init(&c, 1, 0, 0);
    double v, th, sc, seen[3];
    double in[3] = {0, 4, 4};
    for (int i = 0; i < 3; i++) { v = in[i]; clip_apply(&c, &v, &th, &sc); seen[i] = th;
        ok(v == in[i] && sc == 1, "clip off: step %d value untouched", i + 1); }
    ok(near(seen[1], 2) && near(seen[2], 8.0 / 3), "clip off still tracks theta: 2, 8/3");
    clip_free(&c);
}

static void global_scope(void)
{
    hc_clip c;
    clip_init(&c, 2, 1, 1);
    double v[2] = {3, 4}, th[2], sc[2];
    clip_apply(&c, v, th, sc);
    ok(v[0] == 3 && v[1] == 4 && near(th[0], 5), "global: n = 1, norm 5 is its own threshold");
    v[0] = 6; v[1] = 8;
    clip_apply(&c, v, th, sc);
    ok(near(v[0], 4.5) && near(v[1], 6) && near(th[0], 7.5) && near(th[1], 7.5) &&
       near(c.avg[0], 6.25), "global: norm 10 scaled to 7.5 as one vector, theta 7.5, theta' 6.25");
    clip_free(&c);
}

/* SGD(mu=0.5, clip=on) at level 2: the clip acts on the momentum buffer, which is kept. */
static void momentum_buffer(void)
{
    hc_stack_spec spec;
    hc_stack s;
    hc_err e = {0};
    stack_parse("sgd / sgd(alpha=0.1, mu=0.5, clip=on)", &spec, &e);
    stack_init(&s, &spec, 4, &e);
    stack_spec_free(&spec);
    double hg[2] = {0, 0};
    stack_hypergrads(&s, hg); stack_update_level(&s, 1);          /* step 1: g = 0 */
    hg[0] = 4;
    stack_hypergrads(&s, hg); stack_update_level(&s, 1);          /* b = 4 -> 2 */
    ok(near(s.level[1].optim.dstate[0][0], 2) && near_hyper(s.level[0].raw[0], 0.01 - 0.2),
       "step 2: buffer 4 clipped to theta 2 and stored; alpha = 0.01 - 0.1*2");
    ok(near(s.level[1].optim.dD[0][0], -2) && s.level[1].optim.dD[1][0] == 0, "step 2: D = (-b', -kappa b_prev = 0)");
    stack_hypergrads(&s, hg); stack_update_level(&s, 1);          /* b = 0.5*2 + 4 = 5 */
    ok(near(s.level[0].threshold[0], 7.0 / 3) && near(s.level[1].optim.dstate[0][0], 7.0 / 3),
       "step 3: b = 0.5*2 + 4 = 5 clipped to theta (1*2 + 5)/3 = 7/3, stored");
    ok(near(s.level[0].clipped[0], 4 * (7.0 / 3) / 5), "step 3: metrics' clipped = g times the factor");
    ok(near_hyper(s.level[1].optim.dD[1][0], -0.2), "step 3: dh/dmu = -kappa * clipped b_prev = -0.2");
    ok(near_hyper(s.level[0].raw[0], 0.01 - 0.2 - 0.1 * 7.0 / 3), "step 3: alpha updated with the clipped buffer");
    ok(s.level[0].grad[1] == 0 && s.level[0].raw[1] == 0, "SGD mu0 = 0: its mu stays exactly 0");
    stack_free(&s);
}

int main(void)
{
    constant_after_zero();
    zero_left_alone();
    spike();
    off_tracks();
    global_scope();
    momentum_buffer();
    return tap_done();
}
