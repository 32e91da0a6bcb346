#ifndef NEURALFX_CLV2_SHIM_H
#define NEURALFX_CLV2_SHIM_H
// The LV2 C API, for the plugin. Header-only: LV2 has no library to link.
#include <lv2/core/lv2.h>
#include <lv2/urid/urid.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/atom/forge.h>
#include <lv2/worker/worker.h>
#include <lv2/state/state.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <dlfcn.h>
#include <string.h>

// log's printf is variadic, which Swift cannot call: one message, one line.
static inline void nfx_lv2_log(const LV2_Log_Log *log, LV2_URID type, const char *message) {
    if (log) log->printf(log->handle, type, "%s\n", message);
}

// The atom iteration helpers are macros over pointer arithmetic; these walk
// a sequence one event at a time (NULL at the end).
static inline const LV2_Atom_Event *nfx_sequence_first(const LV2_Atom_Sequence *seq) {
    if (!seq || seq->atom.size <= sizeof(LV2_Atom_Sequence_Body)) return NULL;
    const LV2_Atom_Event *ev = lv2_atom_sequence_begin(&seq->body);
    return lv2_atom_sequence_is_end(&seq->body, seq->atom.size, ev) ? NULL : ev;
}

static inline const LV2_Atom_Event *nfx_sequence_next(const LV2_Atom_Sequence *seq, const LV2_Atom_Event *ev) {
    const LV2_Atom_Event *next = lv2_atom_sequence_next(ev);
    return lv2_atom_sequence_is_end(&seq->body, seq->atom.size, next) ? NULL : next;
}

// The value of `key` in an object atom, or NULL.
static inline const LV2_Atom *nfx_object_property(const LV2_Atom_Object *obj, LV2_URID key) {
    LV2_ATOM_OBJECT_FOREACH (obj, prop) {
        if (prop->key == key) return &prop->value;
    }
    return NULL;
}

static inline const LV2_Atom_Object *nfx_event_object(const LV2_Atom_Event *ev) {
    return (const LV2_Atom_Object *)&ev->body;
}

static inline const char *nfx_atom_string(const LV2_Atom *atom) {
    return (const char *)LV2_ATOM_BODY_CONST(atom);
}

// Writes `patch:Set <property> <path>` at frame `frame` into the sequence the
// forge was set to; returns 0 when the buffer was too small.
static inline int nfx_forge_patch_set_path(LV2_Atom_Forge *forge, uint32_t frame, LV2_URID patch_Set,
                                           LV2_URID patch_property, LV2_URID patch_value, LV2_URID property,
                                           const char *path, uint32_t length) {
    LV2_Atom_Forge_Frame frame_;
    if (!lv2_atom_forge_frame_time(forge, frame)) return 0;
    if (!lv2_atom_forge_object(forge, &frame_, 0, patch_Set)) return 0;
    lv2_atom_forge_key(forge, patch_property);
    lv2_atom_forge_urid(forge, property);
    lv2_atom_forge_key(forge, patch_value);
    if (!lv2_atom_forge_path(forge, path, length)) return 0;
    lv2_atom_forge_pop(forge, &frame_);
    return 1;
}

// Starts an empty sequence in the output atom port's buffer, whose capacity
// the host wrote in its size field.
// The forge keeps a pointer to `frame` while the sequence is open (its size
// grows with every event written), so it must outlive the run() call's writes.
static inline int nfx_forge_begin_sequence(LV2_Atom_Forge *forge, LV2_Atom_Sequence *buffer,
                                           LV2_Atom_Forge_Frame *frame) {
    const uint32_t capacity = buffer->atom.size;
    lv2_atom_forge_set_buffer(forge, (uint8_t *)buffer, capacity);
    return lv2_atom_forge_sequence_head(forge, frame, 0) != 0;
}

// A symbol of the host process, if it has one (the test-only allocation counter).
static inline void *nfx_process_symbol(const char *name) { return dlsym(RTLD_DEFAULT, name); }
#endif
