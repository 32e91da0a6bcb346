// The engine-side pieces moved to NeuralFXLive (the LV2 plugin shares them
// without JACK or ALSA); fxhost and its tests still see them through here.
@_exported import NeuralFXLive
