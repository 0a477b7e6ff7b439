//! Runtime monitor of neuron activation patterns (being written).
