"""npm, Yarn Berry and pnpm: .npmrc layering, nerf darts, .yarnrc.yml."""
