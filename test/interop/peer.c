/*
 * A libotr 4.1.x peer for the OTRv3 interoperability test (test/v3-interop.test.ts).
 *
 * It speaks line by line over stdin/stdout. Each command line gets zero or more output lines, then "done".
 *   recv <text>            a message from the network (our TypeScript side)      -> "user <text>" if shown
 *   send <text>            the local user typed <text>                           -> "send <text>" per network message
 *   query                  ask for OTR: inject libotr's own query message
 *   mms <n>                the network's maximum message size (0: no fragmentation)
 *   smpq <question>\t<secret>   start SMP with a question
 *   smpans <secret>        answer the peer's SMP question
 *   symkey <use> <hexdata> use the extra symmetric key                           -> "symkey <hex>"
 *   end                    end the private conversation
 *   status                 -> "status <msgstate> <their_instance hex>"
 * Callbacks print "send <text>" (injected messages) and "event <name> ...".
 * Startup prints "ready <fingerprint hex> <instance tag hex>".
 *
 * Usage: peer <directory for the key and instance-tag files>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/context.h>

#define ACCOUNT "peer"
#define PROTOCOL "prpl-test"
#define BUDDY "ts"

static OtrlUserState us;
static ConnContext *cur; /* the child context of the TypeScript instance, once known */
static int mms = 0;
static char keyfile[4096], instagfile[4096];

/* Lines carry one message each: backslash and newline are escaped as \\ and \n both ways. */
static void emit(const char *prefix, const char *text) {
    fputs(prefix, stdout);
    for (const char *c = text; *c; c++) {
        if (*c == '\n') fputs("\\n", stdout);
        else if (*c == '\\') fputs("\\\\", stdout);
        else putchar(*c);
    }
    putchar('\n');
}

static void unescape(char *s) {
    char *o = s;
    for (char *c = s; *c; c++) {
        if (*c == '\\' && c[1] == 'n') { *o++ = '\n'; c++; }
        else if (*c == '\\' && c[1] == '\\') { *o++ = '\\'; c++; }
        else *o++ = *c;
    }
    *o = 0;
}

static void hex(const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static OtrlPolicy cb_policy(void *opdata, ConnContext *context) {
    (void)opdata; (void)context;
    return OTRL_POLICY_ALLOW_V3 | OTRL_POLICY_WHITESPACE_START_AKE | OTRL_POLICY_ERROR_START_AKE;
}
static void cb_create_privkey(void *opdata, const char *a, const char *p) {
    (void)opdata;
    otrl_privkey_generate(us, keyfile, a, p);
}
static int cb_is_logged_in(void *o, const char *a, const char *p, const char *r) {
    (void)o; (void)a; (void)p; (void)r;
    return 1;
}
static void cb_inject(void *o, const char *a, const char *p, const char *r, const char *message) {
    (void)o; (void)a; (void)p; (void)r;
    emit("send ", message);
}
static void cb_update_context_list(void *o) { (void)o; }
static void cb_new_fingerprint(void *o, OtrlUserState u, const char *a, const char *p, const char *user,
                               unsigned char fp[20]) {
    (void)o; (void)u; (void)a; (void)p; (void)user;
    printf("event new_fingerprint ");
    hex(fp, 20);
    printf("\n");
}
static void cb_write_fingerprints(void *o) { (void)o; }
static void cb_gone_secure(void *o, ConnContext *context) {
    (void)o;
    cur = context;
    printf("event gone_secure ");
    hex(context->sessionid, context->sessionid_len);
    printf(" %d %x\n", context->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD, context->their_instance);
}
static void cb_gone_insecure(void *o, ConnContext *c) { (void)o; (void)c; printf("event gone_insecure\n"); }
static void cb_still_secure(void *o, ConnContext *c, int is_reply) {
    (void)o; (void)c;
    printf("event still_secure %d\n", is_reply);
}
static int cb_max_message_size(void *o, ConnContext *c) { (void)o; (void)c; return mms; }
static const char *cb_account_name(void *o, const char *account, const char *p) {
    (void)o; (void)p;
    return strdup(account);
}
static void cb_account_name_free(void *o, const char *n) { (void)o; free((char *)n); }
static void cb_received_symkey(void *o, ConnContext *c, unsigned int use, const unsigned char *usedata,
                               size_t usedatalen, const unsigned char *symkey) {
    (void)o; (void)c;
    printf("event symkey %u ", use);
    hex(usedata, usedatalen);
    printf(" ");
    hex(symkey, OTRL_EXTRAKEY_BYTES);
    printf("\n");
}
static const char *cb_otr_error_message(void *o, ConnContext *c, OtrlErrorCode code) {
    (void)o; (void)c;
    char *s = malloc(64);
    snprintf(s, 64, "libotr error %d", (int)code);
    return s;
}
static void cb_otr_error_message_free(void *o, const char *m) { (void)o; free((char *)m); }
static void cb_handle_smp_event(void *o, OtrlSMPEvent ev, ConnContext *c, unsigned short progress, char *question) {
    (void)o; (void)progress;
    cur = c;
    const char *name = "other";
    switch (ev) {
    case OTRL_SMPEVENT_ASK_FOR_ANSWER: name = "ask_answer"; break;
    case OTRL_SMPEVENT_ASK_FOR_SECRET: name = "ask_secret"; break;
    case OTRL_SMPEVENT_SUCCESS: name = "success"; break;
    case OTRL_SMPEVENT_FAILURE: name = "failure"; break;
    case OTRL_SMPEVENT_ABORT: name = "abort"; break;
    case OTRL_SMPEVENT_CHEATED: name = "cheated"; break;
    case OTRL_SMPEVENT_ERROR: name = "error"; break;
    case OTRL_SMPEVENT_IN_PROGRESS: name = "in_progress"; break;
    default: break;
    }
    printf("event smp %s %s\n", name, question ? question : "");
    if (ev == OTRL_SMPEVENT_CHEATED || ev == OTRL_SMPEVENT_ERROR) otrl_message_abort_smp(us, NULL, NULL, c);
}
static void cb_handle_msg_event(void *o, OtrlMessageEvent ev, ConnContext *c, const char *message, gcry_error_t err) {
    (void)o; (void)c; (void)err;
    printf("event msg %d ", (int)ev);
    emit("", message ? message : "");
}
static void cb_create_instag(void *o, const char *a, const char *p) {
    (void)o;
    otrl_instag_generate(us, instagfile, a, p);
}

static OtrlMessageAppOps ops = {
    cb_policy, cb_create_privkey, cb_is_logged_in, cb_inject, cb_update_context_list, cb_new_fingerprint,
    cb_write_fingerprints, cb_gone_secure, cb_gone_insecure, cb_still_secure, cb_max_message_size,
    cb_account_name, cb_account_name_free, cb_received_symkey, cb_otr_error_message, cb_otr_error_message_free,
    NULL, NULL, cb_handle_smp_event, cb_handle_msg_event, cb_create_instag, NULL, NULL, NULL,
};

static int unhex(const char *s, unsigned char *out, size_t max) {
    size_t n = strlen(s) / 2;
    if (n > max) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned int v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return (int)n;
}

static ConnContext *context_or_best(void) {
    if (cur) return cur;
    return otrl_context_find(us, BUDDY, ACCOUNT, PROTOCOL, OTRL_INSTAG_BEST, 0, NULL, NULL, NULL);
}

static void command(char *line) {
    if (!strncmp(line, "recv ", 5)) {
        char *newmsg = NULL;
        OtrlTLV *tlvs = NULL;
        ConnContext *ctx = NULL;
        int ignore = otrl_message_receiving(us, &ops, NULL, ACCOUNT, PROTOCOL, BUDDY, line + 5, &newmsg, &tlvs,
                                            &ctx, NULL, NULL);
        if (ctx && ctx->their_instance >= OTRL_MIN_VALID_INSTAG) cur = ctx;
        if (!ignore) emit("user ", newmsg ? newmsg : line + 5);
        for (OtrlTLV *t = tlvs; t; t = t->next) printf("event tlv %u\n", t->type);
        if (newmsg) otrl_message_free(newmsg);
        if (tlvs) otrl_tlv_free(tlvs);
    } else if (!strncmp(line, "send ", 5)) {
        char *newmsg = NULL;
        ConnContext *ctx = NULL;
        otrl_instag_t to = cur ? cur->their_instance : OTRL_INSTAG_BEST;
        gcry_error_t err = otrl_message_sending(us, &ops, NULL, ACCOUNT, PROTOCOL, BUDDY, to, line + 5, NULL,
                                                &newmsg, OTRL_FRAGMENT_SEND_ALL, &ctx, NULL, NULL);
        if (err) printf("event send_error %u\n", (unsigned)err);
        if (newmsg) otrl_message_free(newmsg);
    } else if (!strcmp(line, "query")) {
        char *q = otrl_proto_default_query_msg(ACCOUNT, cb_policy(NULL, NULL));
        emit("send ", q);
        free(q);
    } else if (!strncmp(line, "mms ", 4)) {
        mms = atoi(line + 4);
    } else if (!strncmp(line, "smpq ", 5)) {
        char *tab = strchr(line + 5, '\t');
        ConnContext *c = context_or_best();
        if (!tab || !c) { printf("event bad_command\n"); return; }
        *tab = 0;
        otrl_message_initiate_smp_q(us, &ops, NULL, c, line + 5, (unsigned char *)tab + 1, strlen(tab + 1));
    } else if (!strncmp(line, "smpans ", 7)) {
        ConnContext *c = context_or_best();
        if (!c) { printf("event bad_command\n"); return; }
        otrl_message_respond_smp(us, &ops, NULL, c, (unsigned char *)line + 7, strlen(line + 7));
    } else if (!strncmp(line, "symkey ", 7)) {
        unsigned int use = 0;
        char data[1024] = "";
        unsigned char usedata[512];
        unsigned char key[OTRL_EXTRAKEY_BYTES];
        ConnContext *c = context_or_best();
        if (sscanf(line + 7, "%u %1023s", &use, data) < 1 || !c) { printf("event bad_command\n"); return; }
        int n = unhex(data, usedata, sizeof usedata);
        if (n < 0) { printf("event bad_command\n"); return; }
        gcry_error_t err = otrl_message_symkey(us, &ops, NULL, c, use, usedata, (size_t)n, key);
        if (err) printf("event symkey_error %u\n", (unsigned)err);
        else { printf("symkey "); hex(key, sizeof key); printf("\n"); }
    } else if (!strcmp(line, "end")) {
        ConnContext *c = context_or_best();
        if (c) otrl_message_disconnect(us, &ops, NULL, ACCOUNT, PROTOCOL, BUDDY, c->their_instance);
    } else if (!strcmp(line, "status")) {
        ConnContext *c = context_or_best();
        printf("status %d %x\n", c ? (int)c->msgstate : -1, c ? c->their_instance : 0);
    } else {
        printf("event bad_command\n");
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <dir>\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(keyfile, sizeof keyfile, "%s/peer.key", argv[1]);
    snprintf(instagfile, sizeof instagfile, "%s/peer.instag", argv[1]);
    OTRL_INIT;
    us = otrl_userstate_create();
    if (otrl_privkey_read(us, keyfile) != 0 || !otrl_privkey_find(us, ACCOUNT, PROTOCOL)) {
        if (otrl_privkey_generate(us, keyfile, ACCOUNT, PROTOCOL)) {
            fprintf(stderr, "key generation failed\n");
            return 1;
        }
    }
    if (otrl_instag_read(us, instagfile) != 0 || !otrl_instag_find(us, ACCOUNT, PROTOCOL))
        otrl_instag_generate(us, instagfile, ACCOUNT, PROTOCOL);
    unsigned char fp[20];
    if (!otrl_privkey_fingerprint_raw(us, fp, ACCOUNT, PROTOCOL)) {
        fprintf(stderr, "no fingerprint\n");
        return 1;
    }
    printf("ready ");
    hex(fp, 20);
    printf(" %x\n", otrl_instag_find(us, ACCOUNT, PROTOCOL)->instag);

    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!strcmp(line, "quit")) break;
        unescape(line);
        command(line);
        printf("done\n");
    }
    otrl_userstate_free(us);
    return 0;
}
