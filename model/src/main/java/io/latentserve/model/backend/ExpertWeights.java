package io.latentserve.model.backend;

/** One SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)); gate/up [inter, hidden], down [hidden, inter]. */
public record ExpertWeights(Tensor gateProj, Tensor upProj, Tensor downProj) {
}
