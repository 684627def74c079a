package mgm.loaders.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.runtime.Activation;
import mgm.runtime.DType;

/**
 * The decoder LLM of a {@code config.json} (plain HF or MGM): LLaMA-2/Vicuna, LLaMA-3, Yi and
 * Mistral ({@link Family#LLAMA}), Gemma, Mixtral. Optional keys take the default of the matching
 * transformers config class, so a file reads as transformers would read it.
 *
 * <p>Activation: {@code hidden_act} for LLaMA/Mixtral; Gemma uses {@code hidden_activation} when
 * set, otherwise GELU-tanh — what transformers 4.39 to 4.47 do whatever {@code hidden_act} says
 * (Gemma-1 configs say "gelu"); {@link #hiddenAct()} keeps the raw value for callers that want
 * the other choice.
 *
 * @param family              decoder family
 * @param architecture        {@code architectures[0]}, or the model type when absent
 * @param modelType           {@code model_type}
 * @param hiddenSize          model width
 * @param intermediateSize    MLP width (per expert for Mixtral)
 * @param numLayers           decoder layers
 * @param numHeads            query heads
 * @param numKvHeads          key/value heads (GQA/MQA)
 * @param headDim             width of one head
 * @param rmsNormEps          RMSNorm epsilon
 * @param ropeTheta           RoPE base
 * @param ropeScaling         RoPE scaling, or null
 * @param maxPositionEmbeddings trained context length
 * @param vocabSize           vocabulary size
 * @param tieWordEmbeddings   lm_head shares embed_tokens
 * @param bosTokenIds         BOS id(s), possibly empty
 * @param eosTokenIds         EOS id(s), possibly empty
 * @param padTokenId          pad id, or null
 * @param torchDtype          the dtype the weights were saved in, or null when unstated
 * @param hiddenAct           the raw activation name from the file (hidden_activation for Gemma when set)
 * @param activation          the activation to use (see above)
 * @param attentionBias       q/k/v/o projections have biases
 * @param numExperts          experts per MoE layer (0 for dense models)
 * @param numExpertsPerTok    experts routed per token (0 for dense models)
 * @param slidingWindow       attention window, or null for full attention
 * @param source              the file read
 */
public record LlmConfig(Family family, String architecture, String modelType, int hiddenSize, int intermediateSize,
                        int numLayers, int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                        RopeScaling ropeScaling, int maxPositionEmbeddings, int vocabSize, boolean tieWordEmbeddings,
                        List<Integer> bosTokenIds, List<Integer> eosTokenIds, Integer padTokenId, DType torchDtype,
                        String hiddenAct, Activation activation, boolean attentionBias, int numExperts,
                        int numExpertsPerTok, Integer slidingWindow, Path source) {

    /** Decoder families: what differs in the computation. Mistral is LLAMA plus a sliding window. */
    public enum Family { LLAMA, GEMMA, MIXTRAL }

    /** A supported {@code architectures} entry with its {@code model_type} and family. */
    record Arch(String architecture, String modelType, Family family, String hfType, boolean mgm) {}

    static final List<Arch> ARCHS = List.of(
            new Arch("MGMLlamaForCausalLM", "mgm", Family.LLAMA, "llama", true),
            new Arch("MGMGemmaForCausalLM", "mgm_gemma", Family.GEMMA, "gemma", true),
            new Arch("MGMMixtralForCausalLM", "mgm_mixtral", Family.MIXTRAL, "mixtral", true),
            new Arch("MGMMistralForCausalLM", "mgm_mistral", Family.LLAMA, "mistral", true),
            new Arch("LlamaForCausalLM", "llama", Family.LLAMA, "llama", false),
            new Arch("GemmaForCausalLM", "gemma", Family.GEMMA, "gemma", false),
            new Arch("MixtralForCausalLM", "mixtral", Family.MIXTRAL, "mixtral", false),
            new Arch("MistralForCausalLM", "mistral", Family.LLAMA, "mistral", false));

    public LlmConfig {
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Reads the LLM part of {@code config.json}. */
    public static LlmConfig load(Path configJson) {
        return parse(ConfigReader.read(configJson));
    }

    /** Whether the file's architecture is one of MGM's multimodal wrappers. */
    public boolean isMgmArchitecture() {
        return architecture.startsWith("MGM") || modelType.startsWith("mgm");
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    public boolean isMoe() {
        return numExperts > 0;
    }

    /** Width of all query heads together. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    static LlmConfig parse(ConfigReader c) {
        Arch arch = resolve(c);
        String hf = arch.hfType();
        int vocab = c.requiredInt("vocab_size", 1, 1 << 24);
        int hidden = c.requiredInt("hidden_size", 1, 1 << 17);
        int inter = c.requiredInt("intermediate_size", 1, 1 << 20);
        int layers = c.requiredInt("num_hidden_layers", 1, 1024);
        int heads = c.requiredInt("num_attention_heads", 1, 1024);
        int kvDefault = hf.equals("mixtral") || hf.equals("mistral") ? 8 : heads;
        int kv = c.optionalInt("num_key_value_heads", kvDefault, 1, heads);
        if (heads % kv != 0) {
            throw c.invalid("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv);
        }
        int headDim;
        if (c.has("head_dim")) {
            headDim = c.requiredInt("head_dim", 2, 4096);
        } else if (hf.equals("gemma")) {
            headDim = 256;
        } else {
            if (hidden % heads != 0) {
                throw c.invalid("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads
                        + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) {
            throw c.invalid("head dimension " + headDim + " is odd; RoPE needs pairs");
        }
        double eps = c.optionalDouble("rms_norm_eps", hf.equals("mixtral") ? 1e-5 : 1e-6, 0, 0.1, true);
        double theta = c.optionalDouble("rope_theta", hf.equals("mixtral") ? 1e6 : 10000.0, 1, 1e12, false);
        int maxPos = c.optionalInt("max_position_embeddings",
                switch (hf) { case "gemma" -> 8192; case "llama" -> 2048; default -> 4096 * 32; }, 1, 1 << 24);
        RopeScaling scaling = RopeScaling.read(c, maxPos);
        boolean tie = c.optionalBool("tie_word_embeddings", hf.equals("gemma"));
        List<Integer> bos = c.ids("bos_token_id", List.of(hf.equals("gemma") ? 2 : 1), vocab);
        List<Integer> eos = c.ids("eos_token_id", List.of(hf.equals("gemma") ? 1 : 2), vocab);
        Integer pad = c.nullableInt("pad_token_id", -1, vocab - 1L);
        pad = pad != null && pad < 0 ? null : pad;
        DType dtype = torchDtype(c);
        String act;
        Activation activation;
        if (hf.equals("gemma") && c.has("hidden_activation")) {
            act = c.requiredString("hidden_activation");
            activation = activation(c, act, "hidden_activation");
        } else if (hf.equals("gemma")) {
            act = c.optionalString("hidden_act", "gelu_pytorch_tanh");
            activation(c, act, "hidden_act");
            activation = Activation.GELU_TANH;
        } else {
            act = c.optionalString("hidden_act", "silu");
            activation = activation(c, act, "hidden_act");
        }
        boolean bias = c.optionalBool("attention_bias", false);
        int experts = 0;
        int perTok = 0;
        if (arch.family() == Family.MIXTRAL) {
            experts = c.optionalInt("num_local_experts", 8, 1, 1024);
            perTok = c.optionalInt("num_experts_per_tok", 2, 1, experts);
        }
        Integer window = null;
        if (hf.equals("mixtral") || hf.equals("mistral")) {
            window = c.node.has("sliding_window") ? c.nullableInt("sliding_window", 1, 1 << 24) : (hf.equals("mistral") ? 4096 : null);
        }
        String architecture = architectureName(c, arch);
        String modelType = c.optionalString("model_type", arch.modelType());
        return new LlmConfig(arch.family(), architecture, modelType, hidden, inter, layers, heads, kv, headDim, eps, theta,
                scaling, maxPos, vocab, tie, bos, eos, pad, dtype, act, activation, bias, experts, perTok, window, c.file);
    }

    private static Activation activation(ConfigReader c, String name, String key) {
        try {
            return Activation.fromHf(name);
        } catch (IllegalArgumentException e) {
            throw c.invalid("key '" + key + "': " + e.getMessage());
        }
    }

    private static DType torchDtype(ConfigReader c) {
        String key = c.has("torch_dtype") ? "torch_dtype" : "dtype";
        String s = c.optionalString(key, null);
        if (s == null) {
            return null;
        }
        return switch (s) {
            case "float32" -> DType.F32;
            case "float16" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            default -> throw c.invalid("key '" + key + "' = \"" + s + "\" is not supported (supported: float32, float16, bfloat16)");
        };
    }

    /** Finds the architecture from {@code architectures[0]}, else from {@code model_type}. */
    static Arch resolve(ConfigReader c) {
        String modelType = c.optionalString("model_type", null);
        String first = null;
        if (c.has("architectures")) {
            var a = c.raw("architectures");
            if (!a.isArray() || a.isEmpty() || !a.get(0).isTextual()) {
                throw c.wrongType("architectures", a, "a list of class names");
            }
            first = a.get(0).textValue();
        }
        if (first == null && modelType == null) {
            throw c.invalid("neither 'architectures' nor 'model_type' is set; " + supported());
        }
        for (Arch a : ARCHS) {
            if (first != null ? a.architecture().equals(first) : a.modelType().equals(modelType)) {
                return a;
            }
        }
        throw c.invalid("unsupported model: architectures " + (first == null ? "unset" : "'" + first + "'")
                + ", model_type " + (modelType == null ? "unset" : "'" + modelType + "'") + "; " + supported());
    }

    private static String architectureName(ConfigReader c, Arch arch) {
        return c.has("architectures") ? c.raw("architectures").get(0).textValue() : arch.architecture();
    }

    static String supported() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Arch a : ARCHS) {
            m.put(a.architecture(), a.modelType());
        }
        return "supported architectures: " + String.join(", ", m.keySet()) + " (model_type "
                + String.join(", ", m.values()) + ")";
    }
}
