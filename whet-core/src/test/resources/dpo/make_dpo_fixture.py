#!/usr/bin/python3
"""The DPO loss (Rafailov et al. 2023, the sigmoid form) in plain PyTorch, as an independent reference
for Whet's train.DpoLoss: writes dpo_fixture.json with random logits of a policy and a reference model
over chosen and rejected sequences, their labels (prompt tokens -100, as they are not scored), beta,
and the loss, rewards and the loss's gradient with respect to the policy's logits.

    /usr/bin/python3 make_dpo_fixture.py > dpo_fixture.json
"""
import json
import torch, torch.nn.functional as F

torch.manual_seed(19)
PAIRS, T, V, BETA = 3, 6, 11, 0.1


def labels():
    ids = torch.randint(0, V, (PAIRS, T))
    prompt = torch.tensor([2, 3, 1])  # prompt lengths: those tokens are context, not scored
    for i, p in enumerate(prompt):
        ids[i, :p] = -100
    return ids


def logps(logits, labels):
    # position t predicts token t + 1; -100 labels are not scored
    logits, labels = logits[:, :-1], labels[:, 1:]
    mask = labels != -100
    picked = torch.gather(F.log_softmax(logits, -1), 2, labels.clamp(min=0)[..., None])[..., 0]
    return (picked * mask).sum(-1)


chosen, rejected = labels(), labels()
policy_c = torch.randn(PAIRS, T, V, requires_grad=True)
policy_r = torch.randn(PAIRS, T, V, requires_grad=True)
ref_c, ref_r = torch.randn(PAIRS, T, V), torch.randn(PAIRS, T, V)
pc, pr, rc, rr = logps(policy_c, chosen), logps(policy_r, rejected), logps(ref_c, chosen), logps(ref_r, rejected)
margin = BETA * ((pc - rc) - (pr - rr))
loss = -F.logsigmoid(margin).mean()
loss.backward()
out = {
    "beta": BETA, "shape": [PAIRS, T, V],
    "chosen_labels": chosen.tolist(), "rejected_labels": rejected.tolist(),
    "policy_chosen_logits": policy_c.detach().flatten().tolist(),
    "policy_rejected_logits": policy_r.detach().flatten().tolist(),
    "reference_chosen_logits": ref_c.flatten().tolist(),
    "reference_rejected_logits": ref_r.flatten().tolist(),
    "loss": loss.item(),
    "chosen_rewards": (BETA * (pc - rc)).tolist(),
    "rejected_rewards": (BETA * (pr - rr)).tolist(),
    "reward_accuracy": (margin > 0).float().mean().item(),
    "grad_policy_chosen_logits": policy_c.grad.flatten().tolist(),
    "grad_policy_rejected_logits": policy_r.grad.flatten().tolist(),
}
print(json.dumps(out))
