package mgm.tools.tiny;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.tools.tiny.TinyTensors.ClipShape;
import mgm.tools.tiny.TinyTensors.ConvNextShape;

/**
 * The JSON files of a generated set, with the keys the real ones carry: an MGM (or plain HF)
 * {@code config.json} with every multimodal key MGM's training writes, {@code generation_config.json},
 * a full HF {@code CLIPConfig} with {@code preprocessor_config.json}, and {@code open_clip_config.json}.
 */
final class ConfigFiles {
    static final String TRANSFORMERS_VERSION = "4.36.2";
    static final String CLIP_FOLDER = "model_zoo/OpenAI/clip-vit-large-patch14-336";
    static final String CONVNEXT_FOLDER = "model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup";
    static final List<Double> CLIP_MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
    static final List<Double> CLIP_STD = List.of(0.26862954, 0.26130258, 0.27577711);

    private ConfigFiles() {}

    /** The decoder keys of the base model's config.json (sorted on writing, as transformers does). */
    static Map<String, Object> llm(TinyFamily f, LlmShape s, int vocab, TinyTokenizer tok, String torchDtype, boolean mgm) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(mgm ? f.mgmArchitecture : f.plainArchitecture));
        c.put("model_type", mgm ? f.mgmModelType : f.plainModelType);
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", tok.id(tok.bos()));
        c.put("eos_token_id", tok.id(tok.eos()));
        c.put("hidden_size", s.hidden());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", s.intermediate());
        c.put("max_position_embeddings", f.maxPositions);
        c.put("num_attention_heads", s.heads());
        c.put("num_hidden_layers", s.layers());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("rms_norm_eps", f.rmsNormEps);
        c.put("rope_theta", f.ropeTheta);
        c.put("torch_dtype", torchDtype);
        c.put("transformers_version", TRANSFORMERS_VERSION);
        c.put("use_cache", true);
        c.put("vocab_size", vocab);
        switch (f) {
            case GEMMA -> {
                c.put("head_dim", s.headDim());
                c.put("hidden_act", "gelu");
                c.put("hidden_activation", "gelu_pytorch_tanh");
                c.put("pad_token_id", tok.id("<pad>"));
            }
            case MIXTRAL -> {
                c.put("hidden_act", "silu");
                c.put("num_experts_per_tok", s.expertsPerTok());
                c.put("num_local_experts", s.experts());
                c.put("output_router_logits", false);
                c.put("router_aux_loss_coef", 0.02);
                c.put("sliding_window", null);
                c.put("tie_word_embeddings", false);
            }
            default -> {
                c.put("hidden_act", "silu");
                c.put("pad_token_id", tok.id(tok.unk()));
                c.put("pretraining_tp", 1);
                c.put("rope_scaling", null);
                c.put("tie_word_embeddings", false);
            }
        }
        if (s.headDim() * s.heads() != s.hidden() && !c.containsKey("head_dim")) {
            c.put("head_dim", s.headDim());
        }
        return c;
    }

    /** The multimodal keys MGM's train.py / mgm_arch.py write (architecture notes §6). */
    static void addMgmKeys(Map<String, Object> c, ClipShape clip, ConvNextShape convNext, boolean hd, int maxLength) {
        c.put("freeze_mm_mlp_adapter", false);
        c.put("image_aspect_ratio", "pad");
        c.put("image_global", hd);
        c.put("image_grid", hd ? 2 : 1);
        c.put("image_grid_pinpoints", null);
        c.put("image_size_aux", hd ? 1536 : 768);
        c.put("mm_hidden_size", clip.width());
        c.put("mm_hidden_size_aux", convNext.concatenated());
        c.put("mm_projector_lr", null);
        c.put("mm_projector_type", "mlp2x_gelu");
        c.put("mm_use_im_patch_token", false);
        c.put("mm_use_im_start_end", false);
        c.put("mm_vision_select_feature", "patch");
        c.put("mm_vision_select_layer", -2);
        c.put("mm_vision_tower", CLIP_FOLDER);
        c.put("mm_vision_tower_aux", CONVNEXT_FOLDER);
        c.put("optimize_vision_tower", false);
        c.put("optimize_vision_tower_aux", false);
        c.put("tokenizer_model_max_length", maxLength);
        c.put("tokenizer_padding_side", "right");
        c.put("tune_mm_mlp_adapter", false);
        c.put("use_mm_proj", true);
    }

    static Map<String, Object> generation(TinyFamily f, TinyTokenizer tok) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("_from_model_config", true);
        g.put("bos_token_id", tok.id(tok.bos()));
        if (f == TinyFamily.LLAMA3) {
            g.put("eos_token_id", List.of(tok.id("<|end_of_text|>"), tok.id("<|eot_id|>")));
        } else {
            g.put("eos_token_id", tok.id(tok.eos()));
        }
        g.put("pad_token_id", tok.id(f == TinyFamily.GEMMA ? "<pad>" : tok.unk()));
        g.put("transformers_version", TRANSFORMERS_VERSION);
        return g;
    }

    /** A full HF CLIPConfig (text + vision), as openai/clip-vit-large-patch14-336 ships. */
    static Map<String, Object> clip(ClipShape c) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("architectures", List.of("CLIPModel"));
        root.put("initializer_factor", 1.0);
        root.put("logit_scale_init_value", 2.6592);
        root.put("model_type", "clip");
        root.put("projection_dim", c.projectionDim());
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("attention_dropout", 0.0);
        text.put("bos_token_id", 0);
        text.put("eos_token_id", 2);
        text.put("hidden_act", "quick_gelu");
        text.put("hidden_size", c.textWidth());
        text.put("intermediate_size", c.intermediate());
        text.put("layer_norm_eps", 1e-05);
        text.put("max_position_embeddings", c.textPositions());
        text.put("model_type", "clip_text_model");
        text.put("num_attention_heads", c.heads());
        text.put("num_hidden_layers", c.textLayers());
        text.put("projection_dim", c.projectionDim());
        text.put("vocab_size", c.textVocab());
        root.put("text_config", text);
        root.put("torch_dtype", "float32");
        root.put("transformers_version", TRANSFORMERS_VERSION);
        Map<String, Object> vision = new LinkedHashMap<>();
        vision.put("attention_dropout", 0.0);
        vision.put("dropout", 0.0);
        vision.put("hidden_act", "quick_gelu");
        vision.put("hidden_size", c.width());
        vision.put("image_size", c.imageSize());
        vision.put("initializer_factor", 1.0);
        vision.put("initializer_range", 0.02);
        vision.put("intermediate_size", c.intermediate());
        vision.put("layer_norm_eps", 1e-05);
        vision.put("model_type", "clip_vision_model");
        vision.put("num_attention_heads", c.heads());
        vision.put("num_channels", 3);
        vision.put("num_hidden_layers", c.layers());
        vision.put("patch_size", c.patch());
        vision.put("projection_dim", c.projectionDim());
        root.put("vision_config", vision);
        return root;
    }

    /** The openai CLIP preprocessor config (the legacy integer form the 336 repository carries). */
    static Map<String, Object> preprocessor(ClipShape c) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("crop_size", c.imageSize());
        p.put("do_center_crop", true);
        p.put("do_normalize", true);
        p.put("do_resize", true);
        p.put("feature_extractor_type", "CLIPFeatureExtractor");
        p.put("image_mean", CLIP_MEAN);
        p.put("image_std", CLIP_STD);
        p.put("resample", 3);
        p.put("size", c.imageSize());
        return p;
    }

    /** open_clip_config.json of convnext_large_d_320 (model name kept; the tiny widths come from the weights). */
    static Map<String, Object> openClip(ConvNextShape c, ClipShape text) {
        Map<String, Object> vision = new LinkedHashMap<>();
        vision.put("timm_model_name", "convnext_large");
        vision.put("timm_model_pretrained", false);
        vision.put("timm_pool", "");
        vision.put("timm_proj", "mlp");
        vision.put("timm_drop", 0.0);
        vision.put("timm_drop_path", 0.1);
        vision.put("image_size", 320);
        Map<String, Object> textCfg = new LinkedHashMap<>();
        textCfg.put("context_length", text.textPositions());
        textCfg.put("vocab_size", text.textVocab());
        textCfg.put("width", text.textWidth());
        textCfg.put("heads", text.heads());
        textCfg.put("layers", text.textLayers());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("embed_dim", c.embedDim());
        model.put("vision_cfg", vision);
        model.put("text_cfg", textCfg);
        Map<String, Object> pre = new LinkedHashMap<>();
        pre.put("mean", CLIP_MEAN);
        pre.put("std", CLIP_STD);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model_cfg", model);
        root.put("preprocess_cfg", pre);
        return root;
    }
}
