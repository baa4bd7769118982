/* What the clfault shim (clfault.c) answers a test that runs under it. A test looks these up
 * with dlsym(RTLD_DEFAULT, ...), so that it also runs, unchecked, without the shim. */
#ifndef LEAKYCL_CLFAULT_H
#define LEAKYCL_CLFAULT_H

#include <CL/cl.h>
#include <stddef.h>

/* Counted calls so far, releases aside: the k that CLFAULT_AT counts. */
unsigned long clfault_calls(void);
/* Counted commands forwarded that may write a buffer: kernels, copies, fills. */
unsigned long clfault_writes(void);
/* 1 once the fault has fired, with the call's name, the error and its k; else 0. */
int clfault_fired(const char **call, cl_int *error, unsigned long *at);
/* The file name of the library whose call the fault failed ("" before it fires). */
const char *clfault_fired_library(void);
/* Objects created or retained by the counted libraries and not released since, plus releases
 * of objects they never made; described in text. */
size_t clfault_live(char *text, size_t size);
/* "CL_OUT_OF_RESOURCES" for -5, for the errors the shim injects. */
const char *clfault_error_name(cl_int code);

#endif
