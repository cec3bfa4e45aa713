#pragma once

// The reading of DETR's Hugging Face checkpoints: config.json (DetrConfig
// with a ResNet backbone_config), every field that changes the computation
// read or refused by name, and the tensors under transformers 5's names.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "detr_config.hpp"

namespace accelbench {

/// The fields of a DETR config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields detr_config_fields() {
  using F = ConfigField;
  ConfigFields f = {
      F::read("model_type", "must be \"detr\""),
      F::read("backbone_config", "transformers' ResNet (model_type \"resnet\")"),
      F::read("d_model", "width"),
      F::read("encoder_layers", "encoder layers"),
      F::read("decoder_layers", "decoder layers"),
      F::read("encoder_attention_heads", "encoder attention heads"),
      F::read("decoder_attention_heads", "decoder attention heads"),
      F::read("encoder_ffn_dim", "encoder feed-forward width"),
      F::read("decoder_ffn_dim", "decoder feed-forward width"),
      F::read("num_queries", "object queries"),
      F::read("activation_function", "the feed-forward activation"),
      F::read("auxiliary_loss", "the decoder's layernorm applied after every layer too, as transformers does"),
      F::read("id2label", "the object classes; the class head has one more (\"no object\")"),
      F::refused("position_embedding_type", "sine", "only the sine position embedding is implemented"),
      F::refused("dilation", false, "a dilated last stage (DC5) is a timm backbone's, not implemented"),
      F::refused("use_timm_backbone", false,
                 "timm's ResNet is not implemented; DETR checkpoints with transformers' own ResNet (revision "
                 "\"no_timm\" on the Hub) are"),
      F::refused("backbone", nullptr, "a named timm or Hub backbone is not implemented; backbone_config is"),
      F::refused("backbone_kwargs", nullptr, "arguments of a timm backbone"),
      F::no_effect("use_pretrained_backbone", "where the backbone's initial weights come from; a checkpoint's are read"),
      F::no_effect("num_channels", "the timm backbone's channels; transformers' ResNet takes backbone_config's"),
      F::no_effect("is_encoder_decoder", "a marker of the architecture"),
      F::no_effect("init_xavier_std", "initialisation of new weights; a checkpoint's weights are read")};
  for (const char* n : {"class_cost", "bbox_cost", "giou_cost", "mask_loss_coefficient", "dice_loss_coefficient",
                        "bbox_loss_coefficient", "giou_loss_coefficient", "eos_coefficient"}) {
    f.push_back(F::no_effect(n, "a weight of the training loss or its matcher"));
  }
  return f;
}

/// The fields of DETR's backbone_config (model_type "resnet").
[[nodiscard]] inline ConfigFields detr_backbone_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"resnet\""),
          F::read("num_channels", "image channels"),
          F::read("embedding_size", "the stem's channels"),
          F::read("hidden_sizes", "each stage's channels"),
          F::read("depths", "layers per stage"),
          F::read("layer_type", "\"bottleneck\" or \"basic\""),
          F::read("hidden_act", "the activation; only \"relu\" is implemented"),
          F::read("downsample_in_first_stage", "whether the first stage strides by 2"),
          F::read("downsample_in_bottleneck", "the stride on a bottleneck's first 1x1 convolution"),
          F::read("out_features", "the stages returned; DETR takes the last, which must be the last stage"),
          F::read("out_indices", "the stages returned, by index"),
          F::no_effect("stage_names", "the names of the stages"),
          F::no_effect("is_encoder_decoder", "a marker of the architecture")};
}

namespace detail {

inline ResNetConfig read_resnet_backbone(const HfConfigReader& b) {
  b.require_text("model_type", "", "resnet", "DETR's backbone must be transformers' ResNet (\"resnet\")");
  ResNetConfig r;
  r.channels = b.integer("num_channels", 3);
  r.embedding = b.integer("embedding_size", 64);
  if (b.has("hidden_sizes")) r.widths = b.integers("hidden_sizes");
  if (b.has("depths")) r.depths = b.integers("depths");
  const std::string type = b.text("layer_type", "bottleneck");
  if (type != "bottleneck" && type != "basic") b.fail("layer_type", "\"" + type + "\"", "must be \"bottleneck\" or \"basic\"");
  r.bottleneck = type == "bottleneck";
  (void)read_activation(b, "hidden_act", "relu", "DETR's ResNet", {Activation::relu});
  r.downsample_in_first_stage = b.boolean("downsample_in_first_stage", false);
  r.downsample_in_bottleneck = b.boolean("downsample_in_bottleneck", false);
  const std::string last = "stage" + std::to_string(r.widths.size());
  if (b.has("out_features")) {
    const nlohmann::json& o = b.raw("out_features");
    if (!o.is_array() || o.empty() || !o.back().is_string() || o.back().get<std::string>() != last) {
      b.fail("out_features", o.dump(), "DETR reads the backbone's last feature map, which must be the last stage (\"" +
                                           last + "\")");
    }
  }
  if (b.has("out_indices")) {
    const std::vector<int> o = b.integers("out_indices");
    if (o.back() != static_cast<int>(r.widths.size())) {
      b.fail("out_indices", b.raw("out_indices").dump(), "the last must be the last stage (" + std::to_string(r.widths.size()) + ")");
    }
  }
  b.check_fields(detr_backbone_fields());
  return r;
}

}  // namespace detail

/// DetrConfig from a checkpoint's config.json (model_type "detr" with a
/// backbone_config of model_type "resnet"); the preset is named after the
/// folder, its default image is detr-resnet-50's.
[[nodiscard]] inline DetrConfig detr_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "detr", "the vision family reads DETR checkpoints (\"detr\") and ViT ones");
  DetrConfig m;
  m.name = checkpoint_name(dir);
  m.backbone = detail::read_resnet_backbone(
      c.object("backbone_config", "DETR with transformers' ResNet has backbone_config (use_timm_backbone false)"));
  m.d_model = c.integer("d_model", 256);
  m.encoder_layers = c.integer("encoder_layers", 6);
  m.decoder_layers = c.integer("decoder_layers", 6);
  m.encoder_heads = c.integer("encoder_attention_heads", 8);
  m.decoder_heads = c.integer("decoder_attention_heads", 8);
  m.encoder_ffn = c.integer("encoder_ffn_dim", 2048);
  m.decoder_ffn = c.integer("decoder_ffn_dim", 2048);
  m.num_queries = c.integer("num_queries", 100);
  m.activation = detail::read_activation(c, "activation_function", "relu", "DETR", {Activation::relu, Activation::gelu});
  m.auxiliary_loss = c.boolean("auxiliary_loss", false);
  if (c.has("id2label")) {
    const nlohmann::json& labels = c.raw("id2label");
    if (!labels.is_object() || labels.empty()) c.fail("id2label", labels.dump(), "expected an object of class names");
    m.num_labels = static_cast<int>(labels.size());
  }
  c.check_fields(detr_config_fields());
  validate_detr_config(m);
  return m;
}

/// The tensors of a DETR checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors detr_unused_tensors() {
  return {unused_suffix("num_batches_tracked", "a training counter of the batch norms, frozen in DETR")};
}

/// A DETR checkpoint's weights under transformers 5's names: the names of
/// earlier versions (as saved and on the Hub: backbone.conv_encoder,
/// out_proj, layers.N.fc1) are renamed as transformers renames them, and
/// convolution weights reshaped to [out, in * kernel * kernel].
[[nodiscard]] inline WeightMap detr_weights_from_checkpoint(const std::filesystem::path& dir, const DetrConfig& config) {
  WeightMap in = checkpoint_tensors(dir, {}, detr_unused_tensors());
  WeightMap out;
  const auto rename = [](std::string n) {
    const auto replace = [&](std::string_view from, std::string_view to) {
      const auto at = n.find(from);
      if (at != std::string::npos) n.replace(at, from.size(), to);
    };
    replace("backbone.conv_encoder.", "backbone.");
    replace(".out_proj.", ".o_proj.");
    if (n.find(".mlp.") == std::string::npos) {
      replace(".fc1.", ".mlp.fc1.");
      replace(".fc2.", ".mlp.fc2.");
    }
    return n;
  };
  for (const auto& name : in.names()) {
    in.move_to(name, out, rename(name));
  }
  const auto [stem, layers] = detail::resnet_plan(config.backbone);
  const auto reshape = [&](const ResNetConv& c) {
    if (!c.prefix.empty()) detail::reshape_conv2d_weight(out, c.prefix + "convolution.weight", c.out, c.in, c.kernel);
  };
  reshape(stem);
  for (const auto& L : layers) {
    for (const auto& conv : L.convs) reshape(conv);
    reshape(L.shortcut);
  }
  detail::reshape_conv2d_weight(out, "model.input_projection.weight", config.d_model, config.backbone.out_channels(), 1);
  return out;
}

}  // namespace accelbench
