#ifndef NEURALFX_CALSA_SHIM_H
#define NEURALFX_CALSA_SHIM_H
#include <alsa/asoundlib.h>
#endif
