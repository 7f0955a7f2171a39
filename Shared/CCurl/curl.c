// libcurl's easy interface behind one call (see CCurl.h). No redirects are
// followed, no proxy from the environment is trusted implicitly beyond curl's
// defaults, and nothing is retried here: the provider chain is the only retry loop.
#include "CCurl.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

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
    pthread_once(&once, global_init);
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    if (!c) { strcpy(out->error, "curl_easy_init failed"); out->curl_code = -1; return -1; }
    buffer b = {0}, h = {0};
    b.max = max_body;
    h.max = 256 * 1024;
    struct curl_slist *list = NULL;
    for (int i = 0; i < nheaders; i++) list = curl_slist_append(list, headers[i]);
    // no "Expect: 100-continue" round trip before a body
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body && body_len > 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, out->error);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mathreel");
    CURLcode rc = curl_easy_perform(c);
    out->curl_code = (int)rc;
    out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    out->truncated = b.truncated;
    if (rc == CURLE_WRITE_ERROR && b.truncated) { out->curl_code = 0; rc = CURLE_OK; }
    if (out->error[0] == 0 && rc != CURLE_OK) strncpy(out->error, curl_easy_strerror(rc), sizeof(out->error) - 1);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.data; out->body_len = b.len;
    out->headers = (char *)h.data; out->headers_len = h.len;
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

void mr_http_response_free(mr_http_response *r) {
    free(r->body); free(r->headers);
    r->body = NULL; r->headers = NULL;
}
