"""Every backbone family builds, takes MFCC-sized and face-sized inputs, and embeds."""

import pytest
import torch

from source.nets import BACKBONES, EmotionNet, EnsembleNet, HeadOptions, network_from_config

# the large members of each family are slow to build on CPU; one of each family is tested
FAMILY_REPRESENTATIVES = ["resnet18", "resnext50_32x4d", "wide_resnet50_2", "googlenet",
                          "mobilenet_v2", "densenet121", "alexnet", "vgg16", "squeezenet1_1",
                          "shufflenet_v2_x1_0", "mnasnet1_0"]


@pytest.mark.parametrize("backbone", FAMILY_REPRESENTATIVES)
def test_backbone_on_mfcc_and_face_inputs(backbone):
    torch.manual_seed(0)
    net = EmotionNet(backbone, n_classes=7).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, 126, 13)).shape == (2, 7)
        assert net(torch.randn(2, 3, 64, 64)).shape == (2, 7)
        assert net.embed(torch.randn(2, 3, 64, 64)).shape == (2, 256)


def test_inference_runs_a_frozen_backbone_that_answers_as_the_backbone():
    """In eval mode without gradients the backbone runs as a frozen TorchScript copy (about 3x
    faster on face crops); training and gradients (Grad-CAM) run the backbone itself, and the copy
    is never saved, never copied and made again once a weight changes."""
    import copy

    torch.manual_seed(0)
    net = EmotionNet("mobilenet_v2", n_classes=7, flip_average=True)
    with torch.no_grad():
        for _ in range(3):  # batch-norm statistics of inputs like these, so that answers vary with them
            net(torch.randn(8, 3, 96, 96))
    net.eval()
    x = torch.randn(3, 3, 96, 96)
    with torch.no_grad():
        fast = net(x)
    before = copy.deepcopy(net.state_dict())
    frozen = net.__dict__["_frozen_backbone"][0]
    assert isinstance(frozen, torch.jit.ScriptModule)
    with torch.enable_grad():
        eager = net(x)
    assert eager.requires_grad and torch.allclose(fast, eager.detach(), atol=1e-4)
    assert not any("_frozen" in key for key in net.state_dict())
    assert "_frozen_backbone" not in copy.deepcopy(net).__dict__
    with torch.no_grad():
        net(torch.randn(5, 3, 80, 80))  # another batch and size: the same copy
    assert net.__dict__["_frozen_backbone"][0] is frozen
    with torch.no_grad():
        for parameter in net.backbone.parameters():  # what optimizer steps do, here without train()
            parameter.add_(0.1 * torch.randn_like(parameter))
        changed = net(x)
    assert net.__dict__["_frozen_backbone"][0] is not frozen
    with torch.enable_grad():
        assert torch.allclose(changed, net(x).detach(), atol=1e-4) and not torch.allclose(changed, fast, atol=1e-3)
    torch.nn.ModuleList([net]).load_state_dict({f"0.{key}": value for key, value in before.items()})
    with torch.no_grad():  # weights loaded through a module around it: the copy follows them too
        assert torch.allclose(net(x), fast, atol=1e-5)


def test_all_names_are_torchvision_models():
    from torchvision import models

    assert set(BACKBONES) <= set(models.list_models())


def test_head_options_and_extra_features():
    net = EmotionNet("resnet18", 5, HeadOptions(units=64, layers=2, dropout=0.1, batch_norm=False),
                     extra_features=10).eval()
    x, extra = torch.randn(3, 3, 64, 64), torch.randn(3, 10)
    assert net.embed(x, extra).shape == (3, 64) and net(x, extra).shape == (3, 5)
    rebuilt = EmotionNet.from_config(net.config())
    rebuilt.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(x, extra), net(x, extra))


def test_unknown_backbone():
    with pytest.raises(ValueError, match="unknown backbone"):
        EmotionNet("resnet9000", 7)


def test_ensemble_averages_calibrated_probabilities_and_joins_embeddings():
    torch.manual_seed(0)
    members = [EmotionNet("resnet18", 7).eval(), EmotionNet("mobilenet_v2", 7, HeadOptions(units=64)).eval()]
    temperatures = [1.5, 0.8]
    ensemble = EnsembleNet(members, temperatures).eval()
    x = torch.randn(3, 3, 126, 13)
    with torch.no_grad():
        expected = sum(torch.softmax(m(x) / t, dim=1) for m, t in zip(members, temperatures)) / 2
        assert torch.allclose(torch.softmax(ensemble(x), dim=1), expected, atol=1e-6)
        assert ensemble.embed(x).shape == (3, 256 + 64) and ensemble.embedding_size == 320
        rebuilt = network_from_config(ensemble.config())
        rebuilt.load_state_dict(ensemble.state_dict())
        assert isinstance(rebuilt, EnsembleNet)
        assert torch.allclose(rebuilt.eval()(x), ensemble(x))
        assert isinstance(network_from_config(members[0].config()), EmotionNet)
    with pytest.raises(ValueError, match="two or more"):
        EnsembleNet(members[:1], temperatures[:1])
    with pytest.raises(ValueError, match="same labels"):
        EnsembleNet([members[0], EmotionNet("resnet18", 5)], temperatures)
