/* Compiled alone with -std=c11 -Wall -Wextra -Werror -pedantic: leakycl.h must need nothing
 * included before it. The function makes sure the declarations are usable, not just parsed. */
#include "leakycl.h"

const char *leakycl_header_check(void);

const char *leakycl_header_check(void) { return lcl_status_string(LCL_SUCCESS); }
