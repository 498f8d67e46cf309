package io.latentserve.model.config;

/** The model architectures LatentServe runs, by the HuggingFace `architectures` name. */
public enum Architecture {
    /** DeepSeek-V2, V2-Lite, Coder-V2 and Coder-V2-Lite: MLA attention, MoE feed-forward. */
    DEEPSEEK_V2("DeepseekV2ForCausalLM"),
    /** DeepSeek LLM 7B/67B and DeepSeek-Coder v1: Llama layout, MHA or GQA. */
    LLAMA("LlamaForCausalLM");

    private final String hfName;

    Architecture(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    public static Architecture fromHfName(String name) {
        for (Architecture a : values()) {
            if (a.hfName.equals(name)) {
                return a;
            }
        }
        return null;
    }
}
