/* A previous handler that leaves with siglongjmp, the C idiom sigmux must survive.
 * Test support only (sigmux-testkit). */
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf sigmux_testkit_env;
static volatile sig_atomic_t sigmux_testkit_armed;

/* A one-argument handler: jumps back into sigmux_testkit_raise_and_jump when armed. */
void sigmux_testkit_jumping_handler(int sig) {
    (void)sig;
    if (sigmux_testkit_armed) {
        sigmux_testkit_armed = 0;
        siglongjmp(sigmux_testkit_env, 1);
    }
}

/* Raises sig; returns 1 if a handler jumped out of the delivery, 0 if raise returned. */
int sigmux_testkit_raise_and_jump(int sig) {
    if (sigsetjmp(sigmux_testkit_env, 1) == 0) {
        sigmux_testkit_armed = 1;
        raise(sig);
        sigmux_testkit_armed = 0;
        return 0;
    }
    return 1;
}
