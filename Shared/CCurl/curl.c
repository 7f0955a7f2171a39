// libcurl's easy interface behind one call (see CCurl.h). No redirects are
// followed, and nothing is retried here: the provider chain is the only retry
// loop. libcurl (and the TLS libraries it brings, several MB) is loaded on the
// first request, so a daemon that makes none stays small. Each thread keeps one
// handle, reset between requests, so its open connections (and TLS sessions) to
// the Bot API, the Graph API or a provider are reused.
#include "CCurl.h"
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;

static void drop_handle(void *c) { api.easy_cleanup(c); }

static void load(void) {
    void *h = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (!h) return;
    *(void **)&api.global_init = dlsym(h, "curl_global_init");
    *(void **)&api.easy_init = dlsym(h, "curl_easy_init");
    *(void **)&api.easy_setopt = dlsym(h, "curl_easy_setopt");
    *(void **)&api.easy_perform = dlsym(h, "curl_easy_perform");
    *(void **)&api.easy_getinfo = dlsym(h, "curl_easy_getinfo");
    *(void **)&api.easy_cleanup = dlsym(h, "curl_easy_cleanup");
    *(void **)&api.easy_reset = dlsym(h, "curl_easy_reset");
    *(void **)&api.easy_strerror = dlsym(h, "curl_easy_strerror");
    *(void **)&api.slist_append = dlsym(h, "curl_slist_append");
    *(void **)&api.slist_free_all = dlsym(h, "curl_slist_free_all");
    if (!api.global_init || !api.easy_init || !api.easy_setopt || !api.easy_perform || !api.easy_getinfo ||
        !api.easy_cleanup || !api.easy_reset || !api.easy_strerror || !api.slist_append || !api.slist_free_all) return;
    if (pthread_key_create(&handle_key, drop_handle) != 0) return;
    api.global_init(CURL_GLOBAL_DEFAULT);
    loaded = 1;
}

typedef struct { unsigned char *data; size_t len, cap, max; int truncated; } buffer;

static int append(buffer *b, const char *p, size_t n) {
    if (b->len + n > b->max) { n = b->max > b->len ? b->max - b->len : 0; b->truncated = 1; }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->len + n + 1) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d; b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    buffer *b = ud;
    size_t total = size * n;
    if (!append(b, p, total)) return 0;
    return b->truncated ? 0 : total;  // past the cap: stop the transfer
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    buffer *b = ud;
    size_t total = size * n;
    // A new status line (after a 100 Continue, say) starts the headers over.
    if (total >= 5 && memcmp(p, "HTTP/", 5) == 0) b->len = 0;
    if (!append(b, p, total)) return 0;
    return total;
}

int mr_http_perform(const char *method, const char *url, const char *const *headers, int nheaders,
                    const unsigned char *body, size_t body_len, long connect_timeout_ms, long timeout_ms,
                    size_t max_body, mr_http_response *out) {
    pthread_once(&once, load);
    memset(out, 0, sizeof(*out));
    if (!loaded) {
        strcpy(out->error, "libcurl.so.4 could not be loaded (install libcurl4: sudo apt-get install libcurl4)");
        out->curl_code = -1;
        return -1;
    }
    CURL *c = pthread_getspecific(handle_key);
    if (!c) {
        c = api.easy_init();
        if (!c) { strcpy(out->error, "curl_easy_init failed"); out->curl_code = -1; return -1; }
        pthread_setspecific(handle_key, c);
    }
    buffer b = {0}, h = {0};
    b.max = max_body;
    h.max = 256 * 1024;
    struct curl_slist *list = NULL;
    for (int i = 0; i < nheaders; i++) list = api.slist_append(list, headers[i]);
    // no "Expect: 100-continue" round trip before a body
    list = api.slist_append(list, "Expect:");
    api.easy_setopt(c, CURLOPT_URL, url);
    api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    api.easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body && body_len > 0) {
        api.easy_setopt(c, CURLOPT_POSTFIELDS, body);
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        api.easy_setopt(c, CURLOPT_POSTFIELDS, "");
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (strcmp(method, "HEAD") == 0) api.easy_setopt(c, CURLOPT_NOBODY, 1L);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &b);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &h);
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    api.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    api.easy_setopt(c, CURLOPT_ERRORBUFFER, out->error);
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    api.easy_setopt(c, CURLOPT_USERAGENT, "mathreel");
    CURLcode rc = api.easy_perform(c);
    out->curl_code = (int)rc;
    out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    out->truncated = b.truncated;
    if (rc == CURLE_WRITE_ERROR && b.truncated) { out->curl_code = 0; rc = CURLE_OK; }
    if (out->error[0] == 0 && rc != CURLE_OK) strncpy(out->error, api.easy_strerror(rc), sizeof(out->error) - 1);
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.data; out->body_len = b.len;
    out->headers = (char *)h.data; out->headers_len = h.len;
    // Options go, live connections stay; nothing points into this call's memory afterwards.
    api.easy_reset(c);
    api.slist_free_all(list);
    return rc == CURLE_OK ? 0 : -1;
}

void mr_http_response_free(mr_http_response *r) {
    free(r->body); free(r->headers);
    r->body = NULL; r->headers = NULL;
}
