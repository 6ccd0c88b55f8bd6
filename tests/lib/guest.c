/* Talking to the test guest over its question channel (ttyS1). */
#include "guest.h"

#include "../../vm/vm-guest.h"

/* One client for the question channel: vm/vm-guest.c (setvcpus
 * --guest-online uses it too). */
int guest_ask(const char *sock_path, const char *question, int timeout_ms, char **ret_answer,
              struct qc_err *err)
{
        return vm_guest_ask(sock_path, question, timeout_ms, ret_answer, err);
}

int guest_ask_number(const char *sock_path, const char *question, const char *key, int timeout_ms,
                     long long *ret, struct qc_err *err)
{
        return vm_guest_ask_number(sock_path, question, key, timeout_ms, ret, err);
}
