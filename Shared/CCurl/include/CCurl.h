// One HTTP request through libcurl, for Swift: curl_easy_setopt is variadic and
// cannot be called from Swift, so the whole request is one C call. Blocking:
// callers run it on a thread of their own.
#pragma once
#include <stddef.h>

typedef struct {
    long status;              // HTTP status; 0 when no response came
    int curl_code;            // CURLcode; 0 on success
    int timed_out;            // the timeout (connect or total) ran out
    int truncated;            // the body was longer than max_body and was cut
    char error[256];          // curl's words for a failure
    unsigned char *body;      // malloc'd; body_len bytes
    size_t body_len;
    char *headers;            // the raw header lines of the last response, malloc'd
    size_t headers_len;
} mr_http_response;

// Performs `method url` with `headers` ("Name: value" strings) and `body`.
// Timeouts are in milliseconds. Returns 0 when a response came (any status).
int mr_http_perform(const char *method, const char *url, const char *const *headers, int nheaders,
                    const unsigned char *body, size_t body_len, long connect_timeout_ms, long timeout_ms,
                    size_t max_body, mr_http_response *out);

void mr_http_response_free(mr_http_response *r);
