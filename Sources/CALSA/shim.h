#ifndef NEURALFX_CALSA_SHIM_H
#define NEURALFX_CALSA_SHIM_H
#include <alsa/asoundlib.h>

// alsa-lib prints its own diagnostics to stderr through a variadic handler,
// which Swift cannot define; fxhost reports failures in one line instead.
static void nfx_alsa_ignore_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static inline void nfx_alsa_silence_errors(void) { snd_lib_error_set_handler(nfx_alsa_ignore_error); }
#endif
