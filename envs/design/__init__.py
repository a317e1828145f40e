"""Experimental design and model discovery: BoxingGym's worlds as Gymnasium tasks.

A :class:`~agora.envs.design.model.Model` declares a world once (prior, simulator,
likelihood, designs, goals); inference, EIG, the env and the text face derive from it.
"""
