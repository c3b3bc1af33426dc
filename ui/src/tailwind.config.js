/* Tailwind CLI configuration for the Atlas panel (development time only).
 * Scans the page and the scripts for class names; dark mode follows the
 * system setting (media strategy). Build: `make css`. */
module.exports = {
  content: [__dirname + '/../index.html', __dirname + '/../*.js'],
  darkMode: 'media',
  theme: {
    extend: {
      fontFamily: {
        sans: ['system-ui', '-apple-system', 'Segoe UI', 'Roboto', 'Helvetica Neue', 'Arial', 'sans-serif'],
        mono: ['ui-monospace', 'SFMono-Regular', 'Menlo', 'Consolas', 'Liberation Mono', 'monospace'],
      },
    },
  },
  plugins: [],
};
