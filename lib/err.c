/* err.c - text for the error codes of libshd. */
#include "shd.h"

const char *shd_strerror(int code)
{
	switch (code) {
	case SHD_OK: return "success";
	case SHD_EOF: return "end of stream";
	case SHD_EIO: return "input/output error";
	case SHD_EFORMAT: return "bad input";
	case SHD_ENOMEM: return "out of memory";
	case SHD_EINVAL: return "invalid argument";
	case SHD_ENUMERIC: return "numerical failure";
	}
	return "unknown error";
}
