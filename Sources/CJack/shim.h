#ifndef NEURALFX_CJACK_SHIM_H
#define NEURALFX_CJACK_SHIM_H
#include <jack/jack.h>
#include <jack/midiport.h>

// jack_client_open is variadic, which Swift cannot call: this fixes its one
// optional argument (the server name, used with JackServerName).
static inline jack_client_t *nfx_jack_client_open(const char *name, jack_options_t options,
                                                  jack_status_t *status, const char *server) {
    if (server) return jack_client_open(name, (jack_options_t)(options | JackServerName), status, server);
    return jack_client_open(name, options, status);
}
#endif
