import { useState } from 'preact/hooks';

/** A form's last outcome, announced politely (saved) or as an alert (refused, with the API's detail). */
export function useFormStatus() {
  const [state, setState] = useState<{ ok: boolean; text: string } | null>(null);
  return {
    async run(task: () => Promise<unknown>, done: string) {
      setState(null);
      try {
        await task();
        setState({ ok: true, text: done });
      } catch (err) {
        setState({ ok: false, text: (err as Error).message });
      }
    },
    view: state ? (
      <p role={state.ok ? 'status' : 'alert'} class={state.ok ? 'ok' : 'error'}>
        {state.text}
      </p>
    ) : (
      <p role="status" class="ok" />
    ),
  };
}
