import torch

from coinpredict.models.attention import InformerNet, ProbSparseAttention, TransformerNet
from coinpredict.models.convolutional import ConvNet
from coinpredict.models.recurrent import RecurrentNet


def test_causal_transformer_positions_ignore_later_positions():
    torch.manual_seed(0)
    net = TransformerNet(5, causal=True).eval()
    x = torch.randn(3, 20, 5)
    for i in (0, 7, 18):
        y = x.clone()
        y[:, i + 1:] += torch.randn_like(y[:, i + 1:]) * 3
        with torch.no_grad():
            a, b = net.encode(x), net.encode(y)
        torch.testing.assert_close(a[:, : i + 1], b[:, : i + 1], rtol=1e-5, atol=1e-5)
        assert not torch.allclose(a[:, i + 1:], b[:, i + 1:])


def test_standard_transformer_attends_both_ways():
    torch.manual_seed(0)
    net = TransformerNet(5).eval()
    x = torch.randn(2, 10, 5)
    y = x.clone()
    y[:, 9] += 3
    with torch.no_grad():
        assert not torch.allclose(net.encode(x)[:, 0], net.encode(y)[:, 0])


def test_tcn_is_causal():
    torch.manual_seed(0)
    net = ConvNet(4, style="tcn", blocks=3).eval()
    x = torch.randn(2, 24, 4)
    y = x.clone()
    y[:, 20:] += 5
    with torch.no_grad():
        a, b = net.body(x.transpose(1, 2)), net.body(y.transpose(1, 2))
    torch.testing.assert_close(a[:, :, :20], b[:, :, :20])


def test_informer_distils_and_probsparse_answers_every_position():
    net = InformerNet(4, layers=3).eval()
    x = torch.randn(2, 32, 4)
    with torch.no_grad():
        h = net.input(x) + net.positions[:32]
        for i, layer in enumerate(net.layers[:-1]):
            h = net.distil[i](layer(h))
        assert h.shape[1] == 8  # 32 -> 16 -> 8
        assert net(x).shape == (2, 1)
        attn = ProbSparseAttention(16, 4).eval()
        assert attn(torch.randn(2, 32, 16)).shape == (2, 32, 16)


def test_attention_pooling_exposes_its_weights():
    net = RecurrentNet(4, pooling="attention", layers=1).eval()
    with torch.no_grad():
        net(torch.randn(3, 15, 4))
    w = net.attention.last_weights
    assert w.shape == (3, 15)
    torch.testing.assert_close(w.sum(1), torch.ones(3))


def test_residual_gru_normalises_between_layers():
    net = RecurrentNet(4, residual=True, layers=3, hidden=8)
    assert len(net.norms) == 3 and net(torch.randn(2, 10, 4)).shape == (2, 1)
