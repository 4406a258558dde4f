// Svelte options shared by Vite and svelte-check: TypeScript in <script lang="ts"> is preprocessed.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default { preprocess: vitePreprocess() };
