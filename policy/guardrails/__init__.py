"""mip-federation guard rails: pure checks (rules), the pulumi-policy policies serving them
(policies), and which stacks are prod (stacks, also imported by the program: so this file imports
nothing, and the program does not need pulumi-policy)."""
