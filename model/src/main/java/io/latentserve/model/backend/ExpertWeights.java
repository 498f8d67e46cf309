package io.latentserve.model.backend;

/** One SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)); gate/up [inter, hidden], down [hidden, inter]. */
public record ExpertWeights(Tensor gateProj, Tensor upProj, Tensor downProj) {

    /**
     * out = down(silu(gate(x)) ⊙ up(x)) through the backend's dense operations, x and out [T, hidden]; out is
     * overwritten (the last matmul writes it). The one definition of a dense MLP step: the model's {@code Mlp} and
     * {@link Backend#moe}'s shared experts both run this, so they compute bit for bit the same thing.
     */
    public void forward(Backend b, Tensor x, Tensor out) {
        int tokens = x.rows();
        int inter = gateProj.rows();
        Tensor gate = b.activation(tokens, inter); // [T, I] f32
        Tensor up = b.activation(tokens, inter);   // [T, I] f32
        b.matmul(x, gateProj, gate);
        b.matmul(x, upProj, up);
        b.siluMul(gate, up, gate);
        b.matmul(gate, downProj, out);
    }
}
