/** `registry.*`: registration from the workbench and watched folders (issue 13). */
import type { RegistrationService } from '../../registration/registration-service.js';
import { auditIdentity } from '../../platform/call-context.js';
import type { Handlers } from '../dispatcher.js';

export type RegistrationHandlers = Pick<
  Handlers,
  'registry.registerExport' | 'registry.cancelRegistration' | 'registry.registrations' | 'registry.doctorReport' | 'registry.chooseExportFolder'
>;

export function registrationHandlers(registration: RegistrationService): RegistrationHandlers {
  return {
    'registry.registerExport': ({ path }) => registration.register(path, auditIdentity('workbench').actor),
    'registry.cancelRegistration': ({ jobId }) => registration.cancel(jobId),
    'registry.registrations': () => registration.list(),
    'registry.doctorReport': ({ policy, label }) => registration.doctorReport(policy, label),
    'registry.chooseExportFolder': () => registration.chooseFolder(),
  };
}
