/** State of the live event channel, shown in the side bar. IPC is always `open`. */
export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface ConnectionSource {
  getStatus(): ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
}
