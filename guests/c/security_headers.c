/* SecurityHeadersMiddleware in C: every response gets
 * X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
 * Referrer-Policy: same-origin, like guests/security-headers.
 *
 * Build with: bash guest-sdk/c/build.sh guests/c/security_headers.c -o security_headers.wasm */

#include "shallot.h"

bool exports_shallot_http_process_response_process_response(
    exports_shallot_http_process_response_borrow_request_t req,
    exports_shallot_http_process_response_own_response_t resp,
    exports_shallot_http_process_response_own_response_t *ret,
    exports_shallot_http_process_response_error_t *err) {
  (void)req;
  shallot_http_types_borrow_response_t r = shallot_http_types_borrow_response(resp);
  if (!shallot_set_header(r, "X-Content-Type-Options", "nosniff") ||
      !shallot_set_header(r, "X-Frame-Options", "DENY") ||
      !shallot_set_header(r, "Referrer-Policy", "same-origin")) {
    shallot_http_types_response_drop_own(resp);
    shallot_error(err, SHALLOT_HTTP_TYPES_ERROR_KIND_INTERNAL, "cannot set a security header");
    return false;
  }
  *ret = resp;
  return true;
}
