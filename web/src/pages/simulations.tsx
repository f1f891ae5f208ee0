import { Empty } from '../ui';

export function Simulations() {
  return (
    <div class="page">
      <h1>Simulations</h1>
      <Empty title="The simulator is not available in this build.">
        Once Kairos ships its closed-loop simulator, this page will start runs, show their progress and compare strategies
        side by side.
      </Empty>
    </div>
  );
}
