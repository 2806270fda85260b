// The executable of every layer link check (cmake/GuardianLayers.cmake): it calls nothing;
// linking the layer's whole archive beside it is the check.
int main() { return 0; }
