// A TS spec with a syntax error: a comma is missing after name.
export default {
  version: 1,
  name: "demo"
  models: {},
};
