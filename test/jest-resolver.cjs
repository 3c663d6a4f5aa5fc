// Lets jest (which resolves `require` with the "require" condition) load packages that only export "import".
const esmOnly =
  /^(@actions\/|@octokit\/|universal-user-agent|before-after-hook|fast-content-type-parse|content-type|json-with-bigint)/;

module.exports = (request, options) => {
  if (esmOnly.test(request)) {
    return options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] });
  }
  return options.defaultResolver(request, options);
};
