/* Helpers for Shallot guests in C over the bindings `shallot-c bindings`
 * generates (guest.h). Strings passed in are borrowed; strings the host
 * returns are owned by the caller and freed with guest_string_free. */
#ifndef SHALLOT_H
#define SHALLOT_H

#include <stdbool.h>
#include <string.h>
#include "guest.h"

/* Sets a response header; false (and the host's error freed) if the host
 * refused the name or value. */
static inline bool shallot_set_header(shallot_http_types_borrow_response_t resp,
                                      const char *name, const char *value) {
  guest_string_t n, v;
  shallot_http_types_error_t err;
  guest_string_set(&n, name);
  guest_string_set(&v, value);
  if (!shallot_http_types_method_response_set_header(resp, &n, &v, &err)) {
    shallot_http_types_error_free(&err);
    return false;
  }
  return true;
}

/* Makes the response a template response (Django's TemplateResponse):
 * the host renders template `name` with `context_json`, a JSON object
 * (e.g. "{\"title\": \"Hi\"}"), after every process-template-response.
 * For several candidate names call
 * shallot_http_types_method_response_set_template with a list. False (and
 * the host's error freed) if the host refused the context. */
static inline bool shallot_set_template(shallot_http_types_borrow_response_t resp,
                                        const char *name, const char *context_json) {
  guest_string_t n, c;
  shallot_http_types_error_t err;
  guest_string_set(&n, name);
  guest_string_set(&c, context_json);
  guest_list_string_t names = {&n, 1};
  if (!shallot_http_types_method_response_set_template(resp, &names, &c, &err)) {
    shallot_http_types_error_free(&err);
    return false;
  }
  return true;
}

/* A WIT error for the host, e.g. to return from a hook. */
static inline void shallot_error(shallot_http_types_error_t *err,
                                 shallot_http_types_error_kind_t kind,
                                 const char *message) {
  err->kind = kind;
  guest_string_dup(&err->message, message);
}

#endif
