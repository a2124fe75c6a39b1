#ifndef TRITON_CLIBPQ_SHIM_H
#define TRITON_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
#endif
