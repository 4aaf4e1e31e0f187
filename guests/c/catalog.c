/* The `catalog` view in C: the same template response as
 * guests/python/catalog.py, with one template name, through
 * shallot_set_template; the host renders it.
 *
 * Build with: bash guest-sdk/c/build.sh guests/c/catalog.c -o catalog.wasm */

#include "shallot.h"

static const char CONTEXT[] =
    "{\"items\": [{\"name\": \"Tea\", \"price\": 3}, {\"name\": \"Fish & <Chips>\", \"price\": 7}], "
    "\"title\": \"Catalog\"}";

bool exports_shallot_http_view_handle(exports_shallot_http_view_borrow_request_t req,
                                      exports_shallot_http_view_view_info_t *view,
                                      exports_shallot_http_view_own_response_t *ret,
                                      exports_shallot_http_view_error_t *err) {
  (void)req;
  exports_shallot_http_view_view_info_free(view); /* arguments are the callee's */
  shallot_http_types_own_response_t resp = shallot_http_types_constructor_response(200);
  shallot_http_types_borrow_response_t r = shallot_http_types_borrow_response(resp);
  if (!shallot_set_header(r, "Content-Type", "text/html; charset=utf-8") ||
      !shallot_set_template(r, "catalog.html", CONTEXT)) {
    shallot_http_types_response_drop_own(resp);
    shallot_error(err, SHALLOT_HTTP_TYPES_ERROR_KIND_INTERNAL, "cannot make the template response");
    return false;
  }
  *ret = resp;
  return true;
}
